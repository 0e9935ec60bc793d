package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TalkingHeadsAttentionTest {

    /** Identity plus N(0, 0.5²): maps that really mix the heads. */
    private static Tensor headMap(long seed, int h) {
        return Tensor.eye(h, DType.F64).add(AttentionReference.randn(seed, 0.5, h, h));
    }

    /**
     * The paper's equation in plain double loops: per (b, t), each head's logits q·k/√D over the
     * allowed keys, mixed by P_l, softmaxed, mixed by P_w, then applied to each head's values.
     */
    static double[] naive(Tensor q, Tensor k, Tensor v, double[] pl, double[] pw, AttentionMask mask) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), s = k.size(2), d = q.size(3), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int i = 0; i < t; i++) {
                double[][] logits = new double[heads][s];
                for (int h = 0; h < heads; h++) {
                    for (int j = 0; j < s; j++) {
                        logits[h][j] = AttentionReference.dot(AttentionReference.row(qa, q.shape(), b, h, i),
                                AttentionReference.row(ka, k.shape(), b, h, j)) / Math.sqrt(d);
                    }
                }
                double[][] weights = new double[heads][s];
                for (int g = 0; g < heads; g++) {
                    double total = 0;
                    for (int j = 0; j < s; j++) {
                        if (mask.allowed(b, i, j, t, s)) {
                            double mixed = 0;
                            for (int h = 0; h < heads; h++) {
                                mixed += pl[g * heads + h] * logits[h][j];
                            }
                            weights[g][j] = Math.exp(mixed);
                            total += weights[g][j];
                        }
                    }
                    for (int j = 0; j < s; j++) {
                        weights[g][j] /= total;
                    }
                }
                for (int g = 0; g < heads; g++) {
                    for (int j = 0; j < s; j++) {
                        double u = 0;
                        for (int h = 0; h < heads; h++) {
                            u += pw[g * heads + h] * weights[h][j];
                        }
                        for (int c = 0; c < dv; c++) {
                            out[((b * heads + g) * t + i) * dv + c] += u * va[((b * heads + g) * s + j) * dv + c];
                        }
                    }
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 4) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor pl = headMap(seed + 3, h);
        Tensor pw = headMap(seed + 4, h);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        Variable out = TalkingHeadsAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                Variable.constant(pl), Variable.constant(pw), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(naive(q, k, v, pl.toDoubleArray(), pw.toDoubleArray(), mask), out.data(), 1e-10);
    }

    /** q, k, v and both head maps by central differences, under every mask kind. */
    @Test
    void gradientsIncludingBothHeadMaps() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            GradCheck.check(in -> TalkingHeadsAttention.attend(in[0], in[1], in[2], in[3], in[4], mask),
                    AttentionReference.randn(1, 1, 2, 3, 3, 2), AttentionReference.randn(2, 1, 2, 3, 4, 2),
                    AttentionReference.randn(3, 1, 2, 3, 4, 2), headMap(4, 3), headMap(5, 3));
        }
    }

    /** Built with identity maps, the kernel is plain multi-head softmax attention; its maps are trainable parameters. */
    @Test
    void startsAsSoftmaxAttentionWithTrainableMaps() {
        TalkingHeadsAttention kernel = new TalkingHeadsAttention(2);
        assertEquals(Set.of("proj_l", "proj_w"), kernel.namedParameters().keySet());
        assertArrayEquals(new int[] {2, 2}, kernel.namedParameters().get("proj_l").data().shape());
        AttentionReference.assertSoftmaxUnderEveryMask(3, 5, (q, k, v, m) -> kernel.attend(q, k, v, m).data());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3).to(DType.F32));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 1, 2, 4, 3).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 1, 2, 4, 3).to(DType.F32));
        kernel.attend(q, k, v, AttentionMask.causalOnly()).square().sum().backward();
        for (String name : new String[] {"proj_l", "proj_w"}) {
            double[] grad = kernel.namedParameters().get(name).grad().toDoubleArray();
            assertNotEquals(0.0, grad[1], name + ": an off-diagonal entry gets a gradient");
        }
    }

    /** With mixing maps, one query at a time against the cached keys gives the full causal rows. */
    @Test
    void cachedDecodingEqualsFull() {
        TalkingHeadsAttention kernel = new TalkingHeadsAttention(2);
        kernel.loadStateDict(Map.of("proj_l", headMap(8, 2).to(DType.F32), "proj_w", headMap(9, 2).to(DType.F32)), true);
        CachedDecoding.assertCachedEqualsFull(kernel);
    }

    /**
     * Golden fixture from timm's CaiT TalkingHeadAttn in F64 (nn/tools/golden_b15_talking_heads.py, whose docstring says
     * what is compared): qkv projection, this kernel, heads merged, output projection; the output and the gradients of
     * Σ out·grad_output for the input and every weight, the two head maps included (their biases zeroed there: the paper has none).
     */
    @Test
    void matchesTimmGolden() throws IOException {
        Map<String, Tensor> g = SafeTensors.read(Path.of("src", "test", "resources", "golden", "B15", "talking_heads.safetensors"));
        int heads = 3;
        Map<String, Variable> p = new LinkedHashMap<>();
        for (String name : new String[] {"hidden_states", "qkv.weight", "qkv.bias", "proj.weight", "proj.bias", "proj_l.weight",
                "proj_w.weight"}) {
            p.put(name, Variable.of(g.get(name), true));
        }
        Variable x = p.get("hidden_states"); // (B, N, C)
        int b = x.size(0), n = x.size(1), c = x.size(2);
        Variable qkv = x.matmul(p.get("qkv.weight").mT()).add(p.get("qkv.bias")).reshape(b, n, 3, heads, c / heads)
                .permute(2, 0, 3, 1, 4); // (3, B, H, N, D)
        Variable o = TalkingHeadsAttention.attend(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2), p.get("proj_l.weight"),
                p.get("proj_w.weight"), AttentionMask.NONE); // (B, H, N, D)
        Variable out = o.transpose(1, 2).reshape(b, n, c).matmul(p.get("proj.weight").mT()).add(p.get("proj.bias")); // (B, N, C)
        AttentionReference.assertClose(g.get("output"), out.data(), 1e-12);
        out.mul(Variable.constant(g.get("grad_output"))).sum().backward();
        for (var e : p.entrySet()) {
            AttentionReference.assertClose(g.get("grad." + e.getKey()), e.getValue().grad(), 1e-10);
        }
        // the module: the maps load under the kernel's names (into the F32 parameters) and give the same output
        TalkingHeadsAttention kernel = new TalkingHeadsAttention(heads);
        kernel.loadStateDict(Map.of("proj_l", g.get("proj_l.weight"), "proj_w", g.get("proj_w.weight")), true);
        Variable viaModule = kernel.attend(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2), AttentionMask.NONE);
        AttentionReference.assertClose(o.data(), viaModule.data(), 1e-6);
    }

    @Test
    void rejectsBadArguments() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TalkingHeadsAttention(0));
        assertEquals("TalkingHeadsAttention: heads must be positive, got 0", e.getMessage());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> new TalkingHeadsAttention(3).attend(q, q, q, AttentionMask.NONE));
        Variable bad = Variable.constant(Tensor.eye(3, DType.F64));
        var f = assertThrows(IllegalArgumentException.class, () -> TalkingHeadsAttention.attend(q, q, q, bad, bad, AttentionMask.NONE));
        assertEquals("TalkingHeadsAttention: head maps must be (2, 2), got [3, 3]", f.getMessage());
    }
}
