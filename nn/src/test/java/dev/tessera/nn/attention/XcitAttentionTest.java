package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** B22 XCiT cross-covariance attention: reference, gradients, timm golden, refusals, and a bidirectional training run. */
class XcitAttentionTest {

    /**
     * Naive double loops, one (b, h) at a time: column norms over the tokens, the D × D map
     * A[i][j] = softmax_j(τ_h Σ_t q̂[t][i] k̂[t][j]), out[t][i] = Σ_j A[i][j] v[t][j].
     */
    static double[] reference(Tensor q, Tensor k, Tensor v, double[] tau) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[qa.length];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                int base = (b * heads + h) * t * d;
                double[] qn = new double[d], kn = new double[d];
                for (int c = 0; c < d; c++) {
                    for (int s = 0; s < t; s++) {
                        qn[c] += qa[base + s * d + c] * qa[base + s * d + c];
                        kn[c] += ka[base + s * d + c] * ka[base + s * d + c];
                    }
                    qn[c] = Math.max(Math.sqrt(qn[c]), 1e-12);
                    kn[c] = Math.max(Math.sqrt(kn[c]), 1e-12);
                }
                for (int i = 0; i < d; i++) {
                    double[] a = new double[d];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < d; j++) {
                        for (int s = 0; s < t; s++) {
                            a[j] += qa[base + s * d + i] / qn[i] * ka[base + s * d + j] / kn[j];
                        }
                        a[j] *= tau[h];
                        max = Math.max(max, a[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < d; j++) {
                        a[j] = Math.exp(a[j] - max);
                        z += a[j];
                    }
                    for (int s = 0; s < t; s++) {
                        double acc = 0;
                        for (int j = 0; j < d; j++) {
                            acc += a[j] / z * va[base + s * d + j];
                        }
                        out[base + s * d + i] = acc;
                    }
                }
            }
        }
        return out;
    }

    private static double[] temperatures(int h, int seed) {
        double[] tau = new double[h];
        for (int i = 0; i < h; i++) {
            tau[i] = 0.25 + (seed + 7 * i) % 11 * 0.5;
        }
        return tau;
    }

    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 1, max = 6) int d,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        double[] tau = temperatures(h, seed);
        Tensor q = AttentionReference.randn(seed, 1 + seed % 5, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, t, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, t, d);
        Variable out = XcitAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                Variable.constant(Tensor.of(tau, h, 1, 1)), AttentionMask.NONE);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(reference(q, k, v, tau), out.data(), 1e-10);
    }

    /** q, k, v and the per-head temperature by central differences in F64. */
    @Test
    void gradients() {
        GradCheck.check(in -> XcitAttention.attend(in[0], in[1], in[2], in[3], AttentionMask.NONE), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                AttentionReference.randn(2, 1, 2, 2, 5, 3), AttentionReference.randn(3, 1, 2, 2, 5, 3),
                Tensor.of(new double[] {0.7, 2.0}, 2, 1, 1));
    }

    /** Attention over channels, not tokens: permuting the tokens permutes the output rows the same way. */
    @Test
    void equivariantToTokenOrder() {
        Tensor q = AttentionReference.randn(4, 1, 1, 2, 5, 4);
        Tensor k = AttentionReference.randn(5, 1, 1, 2, 5, 4);
        Tensor v = AttentionReference.randn(6, 1, 1, 2, 5, 4);
        Variable tau = Variable.constant(Tensor.of(new double[] {1, 3}, 2, 1, 1));
        Tensor ids = Tensor.of(new long[] {3, 0, 4, 1, 2}, 5);
        Tensor base = XcitAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), tau, AttentionMask.NONE).data();
        Tensor permuted = XcitAttention.attend(Variable.constant(q.indexSelect(2, ids)), Variable.constant(k.indexSelect(2, ids)),
                Variable.constant(v.indexSelect(2, ids)), tau, AttentionMask.NONE).data();
        AttentionReference.assertClose(base.indexSelect(2, ids).toDoubleArray(), permuted, 1e-12);
    }

    @Test
    void temperatureIsAPerHeadParameterStartingAtOne() {
        XcitAttention kernel = new XcitAttention(3);
        assertEquals(Set.of("temperature"), kernel.namedParameters().keySet());
        Variable tau = kernel.namedParameters().get("temperature");
        assertArrayEquals(new int[] {3, 1, 1}, tau.shape());
        assertEquals(DType.F32, tau.dtype());
        assertArrayEquals(new double[] {1, 1, 1}, tau.data().toDoubleArray());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 2, 3, 4, 4).to(DType.F32));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 2, 3, 4, 4).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 2, 3, 4, 4).to(DType.F32));
        Variable out = kernel.attend(q, k, v, AttentionMask.NONE);
        assertEquals(DType.F32, out.dtype());
        out.square().sum().backward();
        for (double g : tau.grad().toDoubleArray()) {
            assertNotEquals(0.0, g, "every head's temperature gets a gradient");
        }
    }

    /**
     * Golden fixture from timm's XCA in F64 (nn/tools/golden_b22_xcit.py, whose docstring says what is
     * compared): MultiHeadAttention with bias, no RoPE and this kernel is XCA with its qkv split into
     * q/k/v_proj; output and the gradients of Σ out·grad_output for the input and every parameter.
     */
    @Test
    void matchesTimmXca() throws Exception {
        Path file = Path.of(getClass().getResource("/golden/b22/xca.safetensors").toURI());
        Map<String, Tensor> g = SafeTensors.read(file);
        int heads = Integer.parseInt(SafeTensors.readMetadata(file).get("heads"));
        Tensor x = g.get("x"); // (B, N, C)
        int c = x.size(2);
        var config = new MultiHeadAttention.Config(c, heads, heads, c / heads, true, null, 10000, 32, null, 1e-6, 0, 0, DType.F64,
                AttentionKind.XCIT);
        MultiHeadAttention mha = new MultiHeadAttention(config, new Generator(0));
        Map<String, Variable> params = mha.namedParameters();
        assertEquals(Set.of("q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias",
                "o_proj.weight", "o_proj.bias", "kernel.temperature"), params.keySet());
        params.forEach((name, p) -> p.data().copyFromInPlace(g.get(name)));
        Variable in = Variable.of(x, true);
        Variable out = mha.forward(in, AttentionMask.NONE);
        AttentionReference.assertClose(g.get("out").toDoubleArray(), out.data(), 1e-12);
        out.backward(g.get("grad_output"));
        AttentionReference.assertClose(g.get("grad.x").toDoubleArray(), in.grad(), 1e-11);
        // biases and the temperature are F32 parameters (the fixture's values are F32-exact): their gradients are F32-rounded
        params.forEach((name, p) -> AttentionReference.assertClose(g.get("grad." + name).toDoubleArray(), p.grad(),
                p.dtype() == DType.F32 ? 1e-6 : 1e-11));
    }

    @Test
    void refusesCausalAndDocumentMasksAndCachedKeys() {
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        Variable k4 = Variable.constant(AttentionReference.randn(2, 1, 1, 2, 4, 4));
        XcitAttention kernel = new XcitAttention(2);
        var causal = assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, q, q, AttentionMask.causalOnly()));
        assertEquals("XcitAttention: cross-covariance attention is bidirectional only; it takes no causal mask (use AttentionMask.NONE)",
                causal.getMessage());
        var docs = assertThrows(IllegalArgumentException.class,
                () -> kernel.attend(q, q, q, new AttentionMask(false, Tensor.of(new long[] {0, 0, 1}, 1, 3), 0)));
        assertEquals("XcitAttention: cross-covariance attention is bidirectional only; it takes no document mask (use AttentionMask.NONE)",
                docs.getMessage());
        var cached = assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, k4, k4, AttentionMask.NONE));
        assertTrue(cached.getMessage().startsWith("XcitAttention: needs as many keys as queries"), cached.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new XcitAttention(0));
        assertThrows(IllegalArgumentException.class, () -> new XcitAttention(3).attend(q, q, q, AttentionMask.NONE));
        assertTrue(!AttentionKind.XCIT.causal());
    }

    /** The bidirectional training run (MaskedTokenTask): a masked token recovered from the rest of the sequence. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = MaskedTokenTask.train(AttentionKind.XCIT, 12, 22);
        assertTrue(loss[0] > 1.2, "initial loss " + loss[0]);
        assertTrue(loss[1] < 0.5 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }
}
