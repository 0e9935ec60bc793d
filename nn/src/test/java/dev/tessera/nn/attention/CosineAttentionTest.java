package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class CosineAttentionTest {

    /** Per-head log scales, one of them above the clamp ln 100 when h ≥ 2. */
    private static double[] logScales(int h, int seed) {
        double[] ls = new double[h];
        for (int i = 0; i < h; i++) {
            ls[i] = i == 1 ? 5.5 : Math.log(1 + (seed + 3 * i) % 13);
        }
        return ls;
    }

    /** score = exp(min(ls_h, ln 100)) · q·k / (‖q‖‖k‖), in plain double loops. */
    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 6) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        double[] ls = logScales(h, seed);
        Tensor q = AttentionReference.randn(seed, 1 + seed % 5, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] expected = AttentionReference.attendRows(q, k, v, mask,
                (hh, i, j, qi, kj) -> Math.exp(Math.min(Math.exp(ls[hh]), 100) * dot(qi, kj) / Math.sqrt(dot(qi, qi) * dot(kj, kj))));
        Variable out = CosineAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                Variable.constant(Tensor.of(ls, h, 1, 1)), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-9);
    }

    /** Inputs, values and logit_scale by central differences; head 1 sits above the clamp (zero gradient there). */
    @Test
    void gradientsIncludingLogitScale() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            GradCheck.check(in -> CosineAttention.attend(in[0], in[1], in[2], in[3], mask), AttentionReference.randn(1, 1, 2, 2, 3, 3),
                    AttentionReference.randn(2, 1, 2, 2, 4, 3), AttentionReference.randn(3, 1, 2, 2, 4, 2),
                    Tensor.of(new double[] {Math.log(3.0), 5.0}, 2, 1, 1));
        }
    }

    @Test
    void logitScaleIsAPerHeadParameterStartingAtLn10() {
        CosineAttention kernel = new CosineAttention(3);
        assertEquals(Set.of("logit_scale"), kernel.namedParameters().keySet());
        Tensor ls = kernel.namedParameters().get("logit_scale").data();
        assertArrayEquals(new int[] {3, 1, 1}, ls.shape());
        assertEquals(DType.F32, ls.dtype());
        assertArrayEquals(new double[] {10, 10, 10}, kernel.scales(), 1e-5);
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 3, 4).to(DType.F32));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 1, 3, 3, 4).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 1, 3, 3, 4).to(DType.F32));
        kernel.attend(q, k, v, AttentionMask.causalOnly()).square().sum().backward();
        Tensor grad = kernel.namedParameters().get("logit_scale").grad();
        assertArrayEquals(new int[] {3, 1, 1}, grad.shape());
        for (double g : grad.toDoubleArray()) {
            assertNotEquals(0.0, g, "every head's scale gets a gradient");
        }
    }

    /** Scores are bounded by the scale: scaling q or k leaves the output unchanged (the point of the cosine). */
    @Test
    void invariantToQueryAndKeyMagnitude() {
        Tensor q = AttentionReference.randn(4, 1, 1, 2, 4, 5);
        Tensor k = AttentionReference.randn(5, 1, 1, 2, 6, 5);
        Variable v = Variable.constant(AttentionReference.randn(6, 1, 1, 2, 6, 3));
        Variable ls = Variable.constant(Tensor.of(new double[] {1, 2}, 2, 1, 1));
        AttentionMask mask = AttentionReference.mask(3, 1, 4, 6, 9);
        Tensor base = CosineAttention.attend(Variable.constant(q), Variable.constant(k), v, ls, mask).data();
        Tensor scaled = CosineAttention.attend(Variable.constant(q.mul(1e3)), Variable.constant(k.mul(1e-2)), v, ls, mask).data();
        AttentionReference.assertClose(base, scaled, 1e-12);
    }

    /** A query attending to the cached keys gives the full causal sequence's row (the cache path). */
    @Test
    void cachedDecodingEqualsFull() {
        int t = 5;
        CosineAttention kernel = new CosineAttention(2);
        Variable q = Variable.constant(AttentionReference.randn(7, 1, 2, 2, t, 4));
        Variable k = Variable.constant(AttentionReference.randn(8, 1, 2, 2, t, 4));
        Variable v = Variable.constant(AttentionReference.randn(9, 1, 2, 2, t, 3));
        Tensor full = kernel.attend(q, k, v, AttentionMask.causalOnly()).data(); // (B, H, T, Dv)
        for (int p = 0; p < t; p++) {
            Variable kp = Variable.constant(k.data().narrow(2, 0, p + 1).contiguous());
            Variable vp = Variable.constant(v.data().narrow(2, 0, p + 1).contiguous());
            Variable qp = Variable.constant(q.data().narrow(2, p, 1).contiguous());
            Tensor step = kernel.attend(qp, kp, vp, new AttentionMask(true, null, p)).data();
            AttentionReference.assertClose(full.narrow(2, p, 1).contiguous(), step, 1e-12);
        }
    }

    /**
     * Golden fixture from Hugging Face's Swinv2SelfAttention in F64 (nn/tools/golden_b14_cosine_attention.py,
     * whose docstring says what is compared): q/k/v projections, then this kernel, heads merged; the output and the
     * gradients of Σ out·grad_output for the input, the projections and logit_scale (head 2 above the clamp), unmasked
     * and causal. The CPB position bias is neutralised there (a constant 8), as it is not part of B14.
     */
    @Test
    void matchesSwinV2Golden() throws IOException {
        Map<String, Tensor> g = SafeTensors.read(Path.of("src", "test", "resources", "golden", "B14", "cosine_attention.safetensors"));
        int heads = 3;
        for (String c : new String[] {"none", "causal"}) {
            AttentionMask mask = c.equals("causal") ? AttentionMask.causalOnly() : AttentionMask.NONE;
            Map<String, Variable> p = new java.util.LinkedHashMap<>();
            for (String name : new String[] {"hidden_states", "query.weight", "query.bias", "key.weight", "value.weight", "value.bias",
                    "logit_scale"}) {
                p.put(name, Variable.of(g.get(name), true));
            }
            Variable x = p.get("hidden_states"); // (B, N, C)
            Variable q = heads(x.matmul(p.get("query.weight").mT()).add(p.get("query.bias")), heads); // (B, H, N, D)
            Variable k = heads(x.matmul(p.get("key.weight").mT()), heads);
            Variable v = heads(x.matmul(p.get("value.weight").mT()).add(p.get("value.bias")), heads);
            Variable o = CosineAttention.attend(q, k, v, p.get("logit_scale"), mask); // (B, H, N, D)
            Variable out = o.transpose(1, 2).contiguous().reshape(x.size(0), x.size(1), x.size(2)); // (B, N, C)
            AttentionReference.assertClose(g.get(c + ".output"), out.data(), 1e-12);
            out.mul(Variable.constant(g.get("grad_output"))).sum().backward();
            for (var e : p.entrySet()) {
                AttentionReference.assertClose(g.get(c + ".grad." + e.getKey()), e.getValue().grad(), 1e-10);
            }
            // the module: logit_scale loads by its checkpoint name (into the F32 parameter) and gives the same output
            CosineAttention kernel = new CosineAttention(heads);
            kernel.loadStateDict(Map.of("logit_scale", g.get("logit_scale")), true);
            Variable viaModule = kernel.attend(q, k, v, mask).transpose(1, 2).contiguous().reshape(x.size(0), x.size(1), x.size(2));
            AttentionReference.assertClose(g.get(c + ".output"), viaModule.data(), 1e-6);
        }
    }

    /** (B, N, H·D) → (B, H, N, D). */
    private static Variable heads(Variable x, int heads) {
        return x.reshape(x.size(0), x.size(1), heads, x.size(2) / heads).transpose(1, 2);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new CosineAttention(0));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        Variable k5 = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 5));
        assertThrows(IllegalArgumentException.class, () -> new CosineAttention(2).attend(q, k5, k5, AttentionMask.NONE));
        assertThrows(IllegalArgumentException.class, () -> new CosineAttention(3).attend(q, q, q, AttentionMask.NONE));
    }
}
