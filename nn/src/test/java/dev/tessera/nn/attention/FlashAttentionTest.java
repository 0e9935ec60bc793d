package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The fused F32 kernel ({@link FlashAttentionFunction} over {@code tensor.FlashAttention}) equals
 * the composite attention computed in F64, values and all three gradients, within float tolerance:
 * training's causal case as {@link SoftmaxAttention#attend} dispatches it (T not a multiple of the
 * 64-row blocks, with and without packed document ids), and the general masks (query offset,
 * non-causal, Dv ≠ D, ids that recur). F64 inputs never reach this kernel (they take
 * {@link CausalBlockAttention}, gradchecked in its own test). Run once per forced SIMD width.
 */
class FlashAttentionTest {
    /** Float tolerance against the F64 reference: |got − want| ≤ ABS + REL·|want|. */
    private static final double ABS = 2e-5;
    private static final double REL = 2e-4;

    @Provide
    Arbitrary<Integer> headDims() {
        return Arbitraries.of(16, 64, 5);
    }

    @Property(tries = 8)
    void trainingCaseEqualsComposite(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 150) int t, @ForAll("headDims") int d, @ForAll boolean documents, @ForAll long seed) {
        Generator g = new Generator(seed);
        Tensor docs = documents ? Tensor.randint(g, 0, 2, DType.I64, b, t).cumsum(1) : null;
        AttentionMask mask = new AttentionMask(true, docs, 0);
        SoftmaxAttention fused = new SoftmaxAttention().withCausalBlock(0).withFlash(true);
        assertMatchesComposite(g, fused, b, h, t, t, d, d, mask, "flash_attention");
    }

    @Property(tries = 8)
    void generalMasksEqualComposite(@ForAll @IntRange(min = 1, max = 70) int t, @ForAll @IntRange(min = 0, max = 80) int extraKeys,
            @ForAll("headDims") int d, @ForAll @IntRange(min = 1, max = 20) int dv, @ForAll boolean causal,
            @ForAll boolean documents, @ForAll long seed) {
        Generator g = new Generator(seed);
        int s = t + extraKeys;
        Tensor docs = documents ? Tensor.randint(g, 0, 3, DType.I64, 2, s) : null; // ids recur: not one run per document
        AttentionMask mask = new AttentionMask(causal, docs, causal ? s - t : 0);
        assertMatchesComposite(g, null, 2, 1, t, s, d, dv, mask, "flash_attention");
    }

    @Test
    void autoTakesTheFusedKernelOnlyWhenTheBlockedPathWouldSaveMoreProbabilitiesThanTheThreshold() {
        Generator g = new Generator(3);
        int b = 2, h = 3, t = 40, d = 8;
        Variable q = Variable.of(Tensor.randn(g, DType.F32, b, h, t, d), true);
        long saved = (long) b * h * t * t * Float.BYTES;
        AttentionMask mask = AttentionMask.causalOnly();
        assertEquals("flash_attention", new SoftmaxAttention().withCausalBlock(8).withAutoFlash(saved - 1).attend(q, q, q, mask).opName());
        assertEquals("causal_block_attention",
                new SoftmaxAttention().withCausalBlock(8).withAutoFlash(saved).attend(q, q, q, mask).opName());
        assertEquals("causal_block_attention", new SoftmaxAttention().withCausalBlock(8).attend(q, q, q, mask).opName(),
                "the default threshold (128 MiB) keeps small shapes on the blocked path");
    }

    @Test
    void bitwiseIdenticalForAnyThreadCount() {
        Generator g = new Generator(7);
        int b = 2, h = 3, t = 130, d = 16;
        Tensor q = Tensor.randn(g, DType.F32, b, h, t, d);
        Tensor k = Tensor.randn(g, DType.F32, b, h, t, d);
        Tensor v = Tensor.randn(g, DType.F32, b, h, t, d);
        Tensor grad = Tensor.randn(g, DType.F32, b, h, t, d);
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[][] one = run(q, k, v, grad);
            Parallel.setThreads(3);
            float[][] three = run(q, k, v, grad);
            for (int i = 0; i < one.length; i++) {
                assertArrayEquals(one[i], three[i], 0f, "output " + i);
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void runsOnTheSimulatedDeviceWithADocumentMaskBitForBit() {
        Generator g = new Generator(11);
        int b = 2, h = 2, t = 70, d = 8;
        Tensor[] in = {Tensor.randn(g, DType.F32, b, h, t, d), Tensor.randn(g, DType.F32, b, h, t, d), Tensor.randn(g, DType.F32, b, h, t, d),
            Tensor.randn(g, DType.F32, b, h, t, d)};
        long[] docs = new long[b * t];
        for (int i = 0; i < docs.length; i++) {
            docs[i] = i % t / 25;
        }
        Tensor ids = Tensor.of(docs, b, t);
        float[][] cpu = run(in, new AttentionMask(true, ids, 0), dev.tessera.tensor.Device.CPU);
        float[][] sim = run(in, new AttentionMask(true, ids.to(dev.tessera.tensor.Device.SIM), 0), dev.tessera.tensor.Device.SIM);
        for (int i = 0; i < cpu.length; i++) {
            assertArrayEquals(cpu[i], sim[i], 0f, "output " + i);
        }
    }

    private static float[][] run(Tensor[] in, AttentionMask mask, dev.tessera.tensor.Device device) {
        Variable[] x = new Variable[3];
        for (int i = 0; i < 3; i++) {
            x[i] = Variable.of(in[i].to(device), true);
        }
        Variable out = new FlashAttentionFunction(0.3, mask).call(x[0], x[1], x[2]);
        assertEquals(device, out.data().device());
        out.backward(in[3].to(device));
        return new float[][] {out.data().toFloatArray(), x[0].grad().toFloatArray(), x[1].grad().toFloatArray(), x[2].grad().toFloatArray()};
    }

    @Test
    void keepsOnlyTheLogsumexpBetweenForwardAndBackward() {
        Variable q = Variable.of(Tensor.zeros(DType.F32, 1, 1, 300, 8), true);
        Variable out = new SoftmaxAttention().withCausalBlock(0).withFlash(true).attend(q, q, q, AttentionMask.causalOnly());
        assertEquals("flash_attention", out.opName());
        FlashAttentionFunction fn = new FlashAttentionFunction(1, AttentionMask.causalOnly());
        long scratch = dev.tessera.tensor.FlashAttention.scratchFloatsPerTask(fn.problem(new int[] {1, 1, 300, 8}, 300, 8));
        assertTrue(scratch < 300L * 300 / 2, () -> "scratch " + scratch + " floats is not below T²/2");
    }

    private static float[][] run(Tensor q, Tensor k, Tensor v, Tensor grad) {
        Variable[] x = {Variable.of(q, true), Variable.of(k, true), Variable.of(v, true)};
        Variable out = new FlashAttentionFunction(0.25, AttentionMask.causalOnly()).call(x[0], x[1], x[2]);
        out.backward(grad);
        return new float[][] {out.data().toFloatArray(), x[0].grad().toFloatArray(), x[1].grad().toFloatArray(),
            x[2].grad().toFloatArray()};
    }

    /**
     * Attends F32 inputs with {@code kernel} (or the function itself when null), checks the op's
     * name, and compares output and gradients with the F64 composite.
     */
    private static void assertMatchesComposite(Generator g, SoftmaxAttention kernel, int b, int h, int t, int s, int d, int dv,
            AttentionMask mask, String op) {
        Tensor q = Tensor.randn(g, DType.F32, b, h, t, d);
        Tensor k = Tensor.randn(g, DType.F32, b, h, s, d);
        Tensor v = Tensor.randn(g, DType.F32, b, h, s, dv);
        Tensor grad = Tensor.randn(g, DType.F32, b, h, t, dv);
        Variable[] x = {Variable.of(q, true), Variable.of(k, true), Variable.of(v, true)};
        Variable[] y = {Variable.of(q.to(DType.F64), true), Variable.of(k.to(DType.F64), true), Variable.of(v.to(DType.F64), true)};
        double alpha = 1 / Math.sqrt(d);
        Variable out = kernel != null ? kernel.attend(x[0], x[1], x[2], mask)
                : new FlashAttentionFunction(alpha, mask).call(x[0], x[1], x[2]);
        assertEquals(op, out.opName());
        Variable expected = new SoftmaxAttention().attendComposite(y[0], y[1], y[2], mask);
        assertClose(expected.data().toDoubleArray(), out.data().toDoubleArray(), "output");
        out.backward(grad);
        expected.backward(grad.to(DType.F64));
        String[] names = {"dq", "dk", "dv"};
        for (int i = 0; i < 3; i++) {
            assertClose(y[i].grad().toDoubleArray(), x[i].grad().toDoubleArray(), names[i]);
        }
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what + " length");
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < want.length; i++) {
            double excess = Math.abs(got[i] - want[i]) - (ABS + REL * Math.abs(want[i]));
            if (!(excess <= worstExcess)) {
                worst = i;
                worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
            }
        }
        int w = worst;
        assertTrue(w < 0, () -> what + ": index " + w + " got " + got[w] + ", want " + want[w]);
    }
}
