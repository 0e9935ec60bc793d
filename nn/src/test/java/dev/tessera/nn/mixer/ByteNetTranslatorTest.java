package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ByteNetTranslatorTest {
    private static final int BOS = 0;
    private static final int EOS = 1;

    static ByteNetTranslator.Config config(int vocab, int dim, double a, double b) {
        return new ByteNetTranslator.Config(vocab, dim, new ByteNet.Options(3, 0, 2, 1), new ByteNet.Options(3, 0, 4, 1), a, b, BOS, EOS);
    }

    /** A translator whose norms and biases sit away from 1 and 0, so every parameter is exercised. */
    static ByteNetTranslator translator(ByteNetTranslator.Config c, DType dtype, long seed) {
        ByteNetTranslator m = new ByteNetTranslator(c, dtype, new Generator(seed));
        long s = seed;
        for (var e : new java.util.TreeMap<>(m.stateDict()).entrySet()) {
            if (e.getKey().contains("ln_") || e.getKey().endsWith("bias")) {
                e.getValue().copyFromInPlace(Ref.randn(++s + 500, 0.3, e.getValue().shape()).add(e.getKey().endsWith("weight") ? 1 : 0));
            }
        }
        return m;
    }

    static Tensor ids(long seed, int rows, int cols, int lo, int hi) {
        Generator g = new Generator(seed);
        long[] v = new long[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = lo + g.nextLong(hi - lo);
        }
        return Tensor.of(v, rows, cols);
    }

    /** c[b, t, o] = bias[o] + Σ_j Σ_i W[o, i, j] a[b, t + (j − (k−1)/2)·r, i], zero outside 0..S−1, in doubles. */
    static double[] naiveCentred(double[] a, double[] w, double[] bias, int b, int s, int h, int k, int r) {
        double[] c = new double[b * s * h];
        for (int row = 0; row < b; row++) {
            for (int t = 0; t < s; t++) {
                for (int o = 0; o < h; o++) {
                    double acc = bias[o];
                    for (int j = 0; j < k; j++) {
                        int src = t + (j - (k - 1) / 2) * r;
                        for (int i = 0; src >= 0 && src < s && i < h; i++) {
                            acc += w[(o * h + i) * k + j] * a[(row * s + src) * h + i];
                        }
                    }
                    c[(row * s + t) * h + o] = acc;
                }
            }
        }
        return c;
    }

    @Property(tries = 30)
    void encoderConvolutionIsTheCentredDilatedConvolution(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b,
            @ForAll @IntRange(min = 1, max = 12) int s, @ForAll @IntRange(min = 1, max = 3) int h, @ForAll @IntRange(min = 0, max = 2) int halfWidth,
            @ForAll @IntRange(min = 0, max = 3) int log2r) {
        int k = 2 * halfWidth + 1;
        Tensor a = Ref.randn(seed, 1, b, s, h);
        Tensor w = Ref.randn(seed + 1, 1, h, h, k);
        Tensor bias = Ref.randn(seed + 2, 1, h);
        Tensor got = ByteNetTranslator.centredConv(Variable.constant(a), Variable.constant(w), Variable.constant(bias), 1 << log2r).data();
        close(naiveCentred(Ref.d(a), Ref.d(w), Ref.d(bias), b, s, h, k, 1 << log2r), Ref.d(got), 1e-12);
    }

    /** Against {@code Conv1d(H, H, 3, dilation=r, padding=r)}, r = 1, 2, 4: nn/tools/golden_e26_bytenet_encoder_conv.py's F64 fixture. */
    @Test
    void encoderConvolutionMatchesTorchConv1dWithCentredPadding() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/e26/encoder_conv.safetensors").toURI()));
        for (int r : new int[] {1, 2, 4}) {
            String p = "r" + r + ".";
            Variable x = Variable.of(g.get(p + "x").copy(), true);
            Variable w = Variable.of(g.get(p + "weight").copy(), true);
            Variable b = Variable.of(g.get(p + "bias").copy(), true);
            Variable out = ByteNetTranslator.centredConv(x, w, b, r);
            Ref.assertClose(g.get(p + "out"), out.data(), 1e-12);
            out.mul(Variable.constant(g.get(p + "out_weight"))).sum().backward();
            Ref.assertClose(g.get(p + "grad.x"), x.grad(), 1e-12);
            Ref.assertClose(g.get(p + "grad.weight"), w.grad(), 1e-12);
            Ref.assertClose(g.get(p + "grad.bias"), b.grad(), 1e-12);
        }
    }

    /** Teacher forcing == unfolding token by token and in chunks, past |t̂| (6 for |s| = 5, a = 1.2); the decoder's windows stay fixed. */
    @Test
    void teacherForcedEqualsStepByStepUnfolding() {
        ByteNetTranslator m = translator(config(7, 4, 1.2, 0), DType.F64, 3);
        Tensor source = ids(1, 2, 5, 2, 7);
        Tensor targetIn = ids(2, 2, 9, 0, 7);
        double[] full = Ref.d(m.forward(source, targetIn).data()); // (2, 9, 7)
        for (int[] chunks : new int[][] {{1, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 1, 5}, {6, 3}}) {
            ByteNetTranslator.Unfolding u = m.start(source);
            List<Variable> parts = new ArrayList<>();
            int at = 0;
            for (int n : chunks) {
                parts.add(u.next(targetIn.narrow(1, at, n).contiguous()));
                at += n;
                assertEquals(at, u.position());
            }
            close(full, Ref.d(Variable.cat(1, parts.toArray(Variable[]::new)).data()), 1e-11);
        }
    }

    /** |t̂| = ⌊a|s| + b⌋; columns from min(|s|, |t̂|) on read zero, so a shorter estimate changes exactly the later steps. */
    @Test
    void theLengthRuleZeroesColumnsPastTheEstimate() {
        ByteNetTranslator paper = translator(config(7, 4, 1.2, 0), DType.F64, 5);
        ByteNetTranslator shorter = translator(paper.config().withLengthRule(0.5, 1), DType.F64, 5);
        assertEquals(6, paper.estimatedLength(5));
        assertEquals(12, paper.estimatedLength(10));
        assertEquals(4, shorter.estimatedLength(6));
        Tensor source = ids(3, 1, 6, 2, 7);
        Tensor targetIn = ids(4, 1, 8, 0, 7);
        double[] p = Ref.d(paper.forward(source, targetIn).data());
        double[] q = Ref.d(shorter.forward(source, targetIn).data());
        close(java.util.Arrays.copyOf(p, 4 * 7), java.util.Arrays.copyOf(q, 4 * 7), 1e-12);
        for (int t = 4; t < 6; t++) {
            double diff = 0;
            for (int v = 0; v < 7; v++) {
                diff = Math.max(diff, Math.abs(p[t * 7 + v] - q[t * 7 + v]));
            }
            assertTrue(diff > 1e-6, "step " + t + " reads column " + t + " under |t̂| = 6 and zero under |t̂| = 4");
        }
    }

    /** Greedy unfolding feeds back the argmax of teacher forcing on its own prefix; it stops at EOS or the length cap. */
    @Test
    void greedyUnfoldingEqualsRecomputationAndStops() {
        ByteNetTranslator m = translator(config(7, 4, 1.2, 0), DType.F64, 9);
        Variable eosBias = m.namedParameters().get("head.bias");
        eosBias.data().set(-100, EOS); // never EOS: runs to the cap
        Tensor source = ids(6, 2, 4, 2, 7);
        long[][] out = m.greedy(source, 7);
        for (int r = 0; r < 2; r++) {
            assertEquals(7, out[r].length);
            long[] in = new long[8];
            in[0] = BOS;
            System.arraycopy(out[r], 0, in, 1, 7);
            Tensor logits = m.forward(source.narrow(0, r, 1).contiguous(), Tensor.of(java.util.Arrays.copyOf(in, 7), 1, 7)).data();
            for (int t = 0; t < 7; t++) {
                int best = 0;
                for (int v = 1; v < 7; v++) {
                    best = logits.getDouble(0, t, v) > logits.getDouble(0, t, best) ? v : best;
                }
                assertEquals(best, out[r][t], "row " + r + " step " + t);
            }
        }
        eosBias.data().set(100, EOS); // EOS first: nothing before it
        long[][] none = m.greedy(source, 7);
        assertArrayEquals(new long[0], none[0]);
        assertArrayEquals(new long[0], none[1]);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        ByteNetTranslator.Config c = new ByteNetTranslator.Config(4, 2, new ByteNet.Options(3, 1, 2, 1), new ByteNet.Options(2, 1, 2, 1), 1.2, 0,
                BOS, EOS);
        ByteNetTranslator m = translator(c, DType.F64, 7);
        Tensor source = ids(8, 2, 3, 0, 4);
        Tensor targetIn = ids(9, 2, 5, 0, 4);
        ParamGradCheck.check(() -> m.forward(source, targetIn), m.parameters());
    }

    /**
     * Copying a byte string: 8 random strings of 3 symbols over {2..5} per step; 15 Adam steps drop
     * the loss below a tenth and greedy unfolding copies three strings and stops at EOS.
     */
    @Test
    void aShortCopyTrainingLowersTheLossAndGreedyUnfoldingCopies() {
        ByteNetTranslator.Config c = new ByteNetTranslator.Config(6, 16, new ByteNet.Options(3, 0, 2, 1), new ByteNet.Options(3, 0, 2, 1), 1.2,
                0, BOS, EOS);
        ByteNetTranslator m = new ByteNetTranslator(c, DType.F32, new Generator(21));
        AdamW opt = new AdamW(ParamGroup.all(m.parameters()), 5e-2);
        Generator g = new Generator(22);
        double first = 0;
        double last = 0;
        int len = 3;
        int rows = 8;
        for (int step = 0; step < 15; step++) {
            long[] src = new long[rows * len];
            long[] in = new long[rows * (len + 1)];
            long[] want = new long[rows * (len + 1)];
            for (int r = 0; r < rows; r++) {
                in[r * (len + 1)] = BOS;
                for (int t = 0; t < len; t++) {
                    src[r * len + t] = 2 + g.nextLong(4);
                    in[r * (len + 1) + t + 1] = src[r * len + t];
                    want[r * (len + 1) + t] = src[r * len + t];
                }
                want[r * (len + 1) + len] = EOS;
            }
            opt.zeroGrad();
            Variable logits = m.forward(Tensor.of(src, rows, len), Tensor.of(in, rows, len + 1));
            Variable loss = Losses.crossEntropy(logits.reshape(rows * (len + 1), 6), Tensor.of(want, rows * (len + 1)));
            last = loss.data().getDouble();
            first = step == 0 ? last : first;
            loss.backward();
            opt.step();
        }
        assertTrue(last < 0.1 * first, "copy loss " + first + " -> " + last);
        long[][] examples = {{2, 3, 4}, {5, 5, 2}, {4, 2, 3}};
        long[] flat = new long[9];
        for (int r = 0; r < 3; r++) {
            System.arraycopy(examples[r], 0, flat, 3 * r, 3);
        }
        long[][] out = m.greedy(Tensor.of(flat, 3, 3), 8);
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(examples[r], out[r], "greedy copy of row " + r);
        }
    }

    @Test
    void oneLineErrors() {
        var even = assertThrows(IllegalArgumentException.class, () -> new ByteNetTranslator.Config(6, 4, new ByteNet.Options(2, 0, 2, 1),
                new ByteNet.Options(3, 0, 2, 1), 1.2, 0, BOS, EOS));
        assertEquals("ByteNetTranslator: need vocab >= 2, dim >= 1, an odd encoder width, a >= 0 and bos, eos in 0..vocab-1, got vocab=6 dim=4"
                + " encoder=Options[width=2, hidden=0, maxDilation=2, stacks=1] a=1.2 b=0.0 bos=0 eos=1", even.getMessage());
        ByteNetTranslator m = translator(config(6, 4, 1.2, 0), DType.F32, 1);
        var src = assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(DType.F32, 1, 3), ids(1, 1, 2, 0, 6)));
        assertEquals("ByteNetTranslator: source must be integer ids (B, S) with S >= 1, got F32 [1, 3]", src.getMessage());
        var tgt = assertThrows(IllegalArgumentException.class, () -> m.forward(ids(1, 1, 3, 0, 6), ids(1, 2, 2, 0, 6)));
        assertEquals("ByteNetTranslator: target inputs must be integer ids (1, T) with T >= 1, got I64 [2, 2]", tgt.getMessage());
        var cap = assertThrows(IllegalArgumentException.class, () -> m.greedy(ids(1, 1, 3, 0, 6), 0));
        assertEquals("ByteNetTranslator: max length must be >= 1, got 0", cap.getMessage());
    }
}
