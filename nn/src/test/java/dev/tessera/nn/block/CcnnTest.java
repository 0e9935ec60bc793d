package dev.tessera.nn.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.mixer.CkConv;
import dev.tessera.nn.mixer.CkConvTest;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** E24's CCNN network: against a naive double-precision reference, causal features, F64 gradients, and it learns a toy task. */
class CcnnTest {

    private static Ccnn ccnn(int d, int c, int n, int k, CkConv.Options o, long seed) {
        Ccnn m = new Ccnn(new Ccnn.Config(d, c, n, k, o, 0, DType.F64), new Generator(seed));
        Ref.randomizeNorms(m, seed + 7);
        return m;
    }

    /** The network as loops in doubles: each SepFlexConv by CkConvTest's naive layer, LayerNorm, GELU, linear, mean over time. */
    static double[] naive(Ccnn m, double[] x, int b, int t) {
        Ccnn.Config c = m.config();
        Map<String, Tensor> s = m.stateDict();
        int w = c.channels();
        double[] h = CkConvTest.naive(s, "stem.conv.", c.kernel(), x, b, t, c.inputs()); // (B, T, C)
        h = gelu(Ref.layerNorm(h, w, Ref.p(s, "stem.norm.weight"), Ref.p(s, "stem.norm.bias"), 1e-5));
        for (int i = 0; i < c.blocks(); i++) {
            String p = "blocks." + i + ".";
            double[] y = Ref.layerNorm(h, w, Ref.p(s, p + "norm.weight"), Ref.p(s, p + "norm.bias"), 1e-5);
            y = gelu(CkConvTest.naive(s, p + "conv.", c.kernel(), y, b, t, w));
            y = gelu(Ref.linear(y, b * t, w, Ref.p(s, p + "linear.weight"), Ref.p(s, p + "linear.bias"), w));
            for (int j = 0; j < h.length; j++) {
                h[j] += y[j];
            }
        }
        h = Ref.layerNorm(h, w, Ref.p(s, "norm.weight"), Ref.p(s, "norm.bias"), 1e-5);
        double[] pooled = new double[b * w];
        for (int r = 0; r < b; r++) {
            for (int q = 0; q < t; q++) {
                for (int ch = 0; ch < w; ch++) {
                    pooled[r * w + ch] += h[(r * t + q) * w + ch] / t;
                }
            }
        }
        return Ref.linear(pooled, b, w, Ref.p(s, "head.weight"), Ref.p(s, "head.bias"), c.classes());
    }

    private static double[] gelu(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Ref.act(Activation.GELU_ERF, v[i]);
        }
        return out;
    }

    @Property(tries = 10)
    void matchesNaiveNetwork(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 20) int t,
            @ForAll @IntRange(min = 1, max = 3) int d, @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 0, max = 2) int n,
            @ForAll @IntRange(min = 2, max = 24) int length, @ForAll boolean mask) {
        CkConv.Options o = new CkConv.Options(length, 4, 5, mask, 0.2);
        Ccnn m = ccnn(d, c, n, 3, o, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, d);
        double[] want = naive(m, Ref.d(x), b, t);
        double[] got = Ref.d(m.forward(Variable.constant(x)).data());
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-9 * (1 + Math.abs(want[i])), "logit " + i);
        }
    }

    /** Sequences are 1D, so every convolution is causal: features at t do not move when inputs after t do. */
    @Test
    void featuresAreCausal() {
        Ccnn m = ccnn(2, 4, 2, 2, new CkConv.Options(16, 4, 5, true), 3);
        Tensor x = Ref.randn(4, 1, 2, 14, 2);
        Tensor moved = x.copy();
        moved.narrow(1, 9, 5).copyFromInPlace(Ref.randn(5, 1, 2, 5, 2));
        double[] a = Ref.d(m.features(Variable.constant(x)).data());
        double[] z = Ref.d(m.features(Variable.constant(moved)).data());
        double later = 0;
        for (int r = 0; r < 2; r++) {
            for (int q = 0; q < 14; q++) {
                for (int ch = 0; ch < 4; ch++) {
                    int i = (r * 14 + q) * 4 + ch;
                    if (q < 9) {
                        assertEquals(a[i], z[i], 0, "position " + q + " saw a later input");
                    } else {
                        later = Math.max(later, Math.abs(a[i] - z[i]));
                    }
                }
            }
        }
        assertTrue(later > 1e-3, "the later positions must see their inputs");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Ccnn m = ccnn(2, 3, 1, 2, new CkConv.Options(6, 3, 3, true, 0.1), 5);
        m.stateDict().get("blocks.0.conv.mask.sigma").copyFromInPlace(Tensor.of(new double[] {0.3})); // cropped: lags 0 … 3 of 5
        Variable x = Variable.of(Ref.randn(6, 1, 2, 5, 2), true);
        Tensor mix = Ref.randn(7, 1, 2, 2);
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(x);
        ParamGradCheck.check(() -> m.forward(x).mul(Variable.constant(mix)).sum(), leaves);
    }

    /** A toy task: is the mean of a sequence's first quarter positive? 20 AdamW steps on one batch lower the loss. */
    @Test
    void learnsAToySequenceClassification() {
        int b = 16;
        int t = 16;
        Ccnn m = new Ccnn(new Ccnn.Config(1, 6, 1, 2, new CkConv.Options(16, 6, 10, true), 0, DType.F32), new Generator(11));
        Tensor x = Ref.randn(12, 1, b, t, 1).to(DType.F32);
        double[] xs = Ref.d(x);
        long[] y = new long[b];
        for (int r = 0; r < b; r++) {
            double early = 0;
            for (int q = 0; q < t / 4; q++) {
                early += xs[r * t + q];
            }
            y[r] = early > 0 ? 1 : 0;
        }
        Tensor targets = Tensor.of(y, b);
        AdamW opt = new AdamW(ParamGroup.all(m.parameters()), 1e-2);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int step = 0; step < 20; step++) {
            opt.zeroGrad();
            Variable loss = Losses.crossEntropy(m.forward(Variable.constant(x)), targets);
            loss.backward();
            opt.step();
            first = step == 0 ? loss.item() : first;
            last = loss.item();
        }
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
    }

    @Test
    void parameterNamesAndOneLineErrors() {
        var names = new java.util.TreeSet<>(ccnn(2, 4, 1, 3, new CkConv.Options(8, 4, 5, true), 1).stateDict().keySet());
        for (String n : List.of("stem.conv.kernel.l1.weight", "stem.conv.pointwise.weight", "stem.norm.weight", "blocks.0.norm.bias",
                "blocks.0.conv.mask.sigma", "blocks.0.linear.weight", "norm.weight", "head.bias")) {
            assertTrue(names.contains(n), n + " in " + names);
        }
        assertEquals(4 * 2, ccnn(2, 4, 1, 3, new CkConv.Options(8, 4, 5, true), 1).stateDict().get("stem.conv.pointwise.weight").numel(),
                "the stem's pointwise layer maps D = 2 to C = 4");
        var e = assertThrows(IllegalArgumentException.class, () -> ccnn(2, 4, 1, 3, new CkConv.Options(8, 4, 5, true), 1)
                .forward(Variable.constant(Ref.randn(1, 1, 2, 5, 3))));
        assertEquals("ccnn: input must be (B, T, 2) with T >= 1, got [2, 5, 3]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Ccnn.Config(1, 4, 1, 1, new CkConv.Options(8, 4, 5, true), 0, DType.F32));
    }
}
