package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PerformerAttentionTest {

    /** φ(x) = exp(W x' − |x'|²/2)/√m, x' = x·D^(−1/4), straight from the paper (no stabiliser). */
    static double[] phi(double[] w, int m, double[] x) {
        int d = x.length;
        double[] xs = new double[d];
        for (int c = 0; c < d; c++) {
            xs[c] = x[c] * Math.pow(d, -0.25);
        }
        double half = dot(xs, xs) / 2;
        double[] f = new double[m];
        for (int j = 0; j < m; j++) {
            f[j] = Math.exp(dot(Arrays.copyOfRange(w, j * d, j * d + d), xs) - half) / Math.sqrt(m);
        }
        return f;
    }

    /** The quadratic masked form Σ_s φ(q_t)·φ(k_s) v_s / Σ_s φ(q_t)·φ(k_s) in double loops. */
    static double[] reference(PerformerAttention kernel, Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        double[] w = kernel.projection().toDoubleArray();
        int m = kernel.numFeatures();
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        return AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask,
                (b, h, i, j) -> dot(phi(w, m, row(qa, q.shape(), b, h, i)), phi(w, m, row(ka, k.shape(), b, h, j))));
    }

    @Property(tries = 40)
    void bidirectionalAndPrefixFormsMatchTheQuadraticReference(@ForAll @IntRange(min = 1, max = 2) int b,
            @ForAll @IntRange(min = 1, max = 2) int h, @ForAll @IntRange(min = 1, max = 6) int t,
            @ForAll @IntRange(min = 0, max = 3) int extra, @ForAll @IntRange(min = 1, max = 5) int d,
            @ForAll @IntRange(min = 1, max = 12) int m, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll boolean orthogonal, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        PerformerAttention kernel = new PerformerAttention(d, m, orthogonal, new Generator(seed));
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] expected = reference(kernel, q, k, v, mask);
        Variable[] x = {Variable.constant(q), Variable.constant(k), Variable.constant(v)};
        AttentionReference.assertClose(expected, kernel.attend(x[0], x[1], x[2], mask).data(), 1e-9);
        AttentionReference.assertClose(expected, kernel.attendQuadratic(x[0], x[1], x[2], mask).data(), 1e-9);
        Variable out32 = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), mask);
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(expected, out32.data(), 2e-4);
    }

    /**
     * A document whose keys weigh little next to an earlier document's (here φ ~ 10⁻⁵ against 1,
     * far from F32 underflow) keeps F32's relative precision: with one feature the output is
     * Σ φ(k_s) v_s / Σ φ(k_s) over the document, whatever else the row holds. (Found as a flaky
     * property sample: interval sums taken as differences of whole-row prefix sums cancelled the
     * small document's mass against the earlier one's, errors 2·10⁻³ to 4·10⁻².)
     */
    @Test
    void smallDocumentsKeepTheirPrecisionInF32() {
        int d = 4, s = 8;
        PerformerAttention kernel = new PerformerAttention(d, 1, new Generator(7));
        Tensor w = kernel.projection().to(DType.F64).reshape(1, 1, 1, d);
        Tensor away = w.mul(-4 * Math.pow(d, 0.25) / Math.sqrt(w.square().sum().item())); // k' = −4 ŵ + noise: far below doc 0's logit 0
        Tensor k = Tensor.cat(2, Tensor.zeros(DType.F64, 1, 1, 4, d), AttentionReference.randn(2, 0.3, 1, 1, 4, d).add(away));
        Tensor q = AttentionReference.randn(1, 1, 1, 1, s, d);
        Tensor v = AttentionReference.randn(3, 1, 1, 1, s, 3);
        for (boolean causal : new boolean[] {false, true}) {
            AttentionMask mask = new AttentionMask(causal, Tensor.of(new long[] {0, 0, 0, 0, 1, 1, 1, 1}, 1, s), 0);
            Tensor got = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                    Variable.constant(v.to(DType.F32)), mask).data();
            AttentionReference.assertClose(reference(kernel, q, k, v, mask), got, 1e-5);
        }
    }

    /** The causal prefix-sum form equals the quadratic masked form, also with a cache (T < S). */
    @Test
    void causalPrefixSumsEqualQuadraticMaskedForm() {
        PerformerAttention kernel = new PerformerAttention(4, 16, new Generator(2));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 2, 3, 10, 4));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 2, 3, 10, 4));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 2, 3, 10, 4));
        for (AttentionMask mask : new AttentionMask[] {AttentionMask.causalOnly(), AttentionReference.mask(3, 2, 10, 10, 4),
            AttentionReference.mask(2, 2, 10, 10, 4)}) {
            AttentionReference.assertClose(kernel.attendQuadratic(q, k, v, mask).data(), kernel.attend(q, k, v, mask).data(), 1e-10);
        }
        Variable tail = kernel.attend(q.narrow(2, 7, 3), k, v, new AttentionMask(true, null, 7));
        AttentionReference.assertClose(kernel.attend(q, k, v, AttentionMask.causalOnly()).data().narrow(2, 7, 3).contiguous(),
                tail.data(), 1e-10);
    }

    /** Decoding token by token with the running (S, z) state equals the full causal form. */
    @Test
    void recurrentDecodingEqualsFullCausal() {
        int b = 2, h = 2, t = 12, d = 4;
        PerformerAttention kernel = new PerformerAttention(d, 24, new Generator(3));
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            // keys of growing scale, so the running stabiliser has to rescale the state on the way
            Tensor k = AttentionReference.randn(2, 1, b, h, t, d).mul(Tensor.linspace(0.2, 3, t, DType.F64).reshape(t, 1)).to(dtype);
            Tensor q = AttentionReference.randn(1, 1, b, h, t, d).to(dtype);
            Tensor v = AttentionReference.randn(3, 1, b, h, t, d).to(dtype);
            Tensor full = kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), AttentionMask.causalOnly()).data();
            PerformerAttention.State state = kernel.newState(b, h, d, dtype);
            for (int i = 0; i < t; i++) {
                Tensor out = kernel.step(state, q.narrow(2, i, 1), k.narrow(2, i, 1), v.narrow(2, i, 1));
                assertEquals(dtype, out.dtype());
                AttentionReference.assertClose(full.narrow(2, i, 1).contiguous(), out, dtype == DType.F64 ? 1e-10 : 1e-4);
            }
            assertEquals(t, state.steps());
        }
    }

    /**
     * FAVOR+ estimates softmax attention: the mean error over seeds falls as the number of features
     * grows. (Moderate q, k scales: for large |q + k| the lognormal features are heavy-tailed and the
     * 1/√m regime starts at much larger m.)
     */
    @Test
    void approximatesSoftmaxAttentionBetterWithMoreFeatures() {
        int b = 1, h = 2, t = 8, d = 4;
        int[] ms = {4, 16, 64, 256, 1024};
        double[] error = new double[ms.length];
        int seeds = 8;
        for (int seed = 0; seed < seeds; seed++) {
            Tensor q = AttentionReference.randn(100 + seed, 0.3, b, h, t, d);
            Tensor k = AttentionReference.randn(200 + seed, 0.3, b, h, t, d);
            Tensor v = AttentionReference.randn(300 + seed, 1, b, h, t, d);
            double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
            double[] exact = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), AttentionMask.NONE,
                    (bb, hh, i, j) -> Math.exp(dot(row(qa, q.shape(), bb, hh, i), row(ka, k.shape(), bb, hh, j)) / Math.sqrt(d)));
            for (int i = 0; i < ms.length; i++) {
                PerformerAttention kernel = new PerformerAttention(d, ms[i], new Generator(1000L * seed + i));
                double[] got = kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), AttentionMask.NONE)
                        .data().toDoubleArray();
                double sq = 0;
                for (int j = 0; j < got.length; j++) {
                    sq += (got[j] - exact[j]) * (got[j] - exact[j]);
                }
                error[i] += Math.sqrt(sq / got.length) / seeds;
            }
        }
        for (int i = 1; i < ms.length; i++) {
            assertTrue(error[i] < error[i - 1], "error should fall with m: " + Arrays.toString(error));
        }
        // the RMS error of a Monte-Carlo estimate falls like 1/√m: 256× the features, ≥ 8× less error
        assertTrue(error[0] > 8 * error[ms.length - 1] && error[ms.length - 1] < 0.02, Arrays.toString(error));
    }

    @Test
    void finiteDifferenceGradients() {
        PerformerAttention kernel = new PerformerAttention(3, 5, new Generator(8));
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 13);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 4, 3),
                    AttentionReference.randn(2, 1, 2, 2, 5, 3), AttentionReference.randn(3, 1, 2, 2, 5, 2));
        }
    }

    @Test
    void orthogonalFeaturesHaveOrthogonalBlocksAndChiNorms() {
        int d = 6, m = 15;
        double[] w = PerformerAttention.randomFeatures(m, d, true, new Generator(4)).toDoubleArray();
        for (int block = 0; block * d < m; block++) {
            for (int i = block * d; i < Math.min(m, block * d + d); i++) {
                for (int j = block * d; j < i; j++) {
                    double[] ri = Arrays.copyOfRange(w, i * d, i * d + d), rj = Arrays.copyOfRange(w, j * d, j * d + d);
                    assertEquals(0, dot(ri, rj) / Math.sqrt(dot(ri, ri) * dot(rj, rj)), 1e-6);
                }
            }
        }
        // squared row norms are chi²(d): mean d over many rows
        double[] big = PerformerAttention.randomFeatures(4000, d, true, new Generator(5)).toDoubleArray();
        double mean = 0;
        for (int i = 0; i < 4000; i++) {
            double[] r = Arrays.copyOfRange(big, i * d, i * d + d);
            mean += dot(r, r) / 4000;
        }
        assertEquals(d, mean, 0.3);
    }

    @Test
    void featuresAreRedrawnOnRequestAndEveryNTrainingCalls() {
        PerformerAttention kernel = new PerformerAttention(2, 4, new Generator(1));
        assertTrue(kernel.namedBuffers().containsKey("projection_matrix"));
        Tensor first = kernel.projection();
        kernel.redrawFeatures(new Generator(2));
        assertFalse(Arrays.equals(first.toDoubleArray(), kernel.projection().toDoubleArray()));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 3, 2));
        kernel.redrawEvery(2, new Generator(3));
        Tensor[] seen = new Tensor[5];
        for (int call = 0; call < 5; call++) {
            kernel.attend(x, x, x, AttentionMask.causalOnly());
            seen[call] = kernel.projection();
        }
        assertTrue(seen[0] == seen[1] && seen[1] != seen[2] && seen[2] == seen[3] && seen[3] != seen[4]);
        kernel.eval();
        Tensor frozen = kernel.projection();
        for (int call = 0; call < 4; call++) {
            kernel.attend(x, x, x, AttentionMask.NONE);
        }
        assertTrue(frozen == kernel.projection());
    }

    @Test
    void documentsMustBeContiguousRuns() {
        PerformerAttention kernel = new PerformerAttention(2, 4, new Generator(1));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        AttentionMask interleaved = new AttentionMask(true, Tensor.of(new long[] {0, 1, 0, 1}, 1, 4), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, interleaved));
        assertTrue(e.getMessage().contains("contiguous"));
    }

    /** Module.setBuffer keeps the replaced buffer's device: features redrawn after module.to(SIM) stay on SIM, with the host draw's bits. */
    @Test
    void redrawnFeaturesStayOnTheModulesDevice() {
        PerformerAttention kernel = new PerformerAttention(8, 16, new Generator(1));
        kernel.to(Device.SIM);
        kernel.redrawFeatures(new Generator(2));
        Tensor w = kernel.namedBuffers().get("projection_matrix");
        assertEquals(Device.SIM, w.device());
        assertArrayEquals(PerformerAttention.randomFeatures(16, 8, true, new Generator(2)).toFloatArray(), w.toFloatArray());
    }
}
