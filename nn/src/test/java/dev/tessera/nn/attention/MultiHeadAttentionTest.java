package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** A8, A9, A11, A12: multi-head / grouped / multi-query attention, masks, QK-norm, soft-capping, KV cache. */
class MultiHeadAttentionTest {

    static MultiHeadAttention.Config config(int dim, int heads, int kv, int headDim, boolean bias, RotaryEmbedding.Convention rope,
            NormKind qkNorm, double softCap) {
        return new MultiHeadAttention.Config(dim, heads, kv, headDim, bias, rope, 10000, 16, qkNorm, 1e-6, softCap, 0, DType.F64);
    }

    @Provide
    Arbitrary<RotaryEmbedding.Convention> ropes() {
        return Arbitraries.of(RotaryEmbedding.Convention.values()).injectNull(0.3);
    }

    @Provide
    Arbitrary<NormKind> norms() {
        return Arbitraries.of(NormKind.values()).injectNull(0.4);
    }

    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 0, max = 2) int headsLog, @ForAll @IntRange(min = 0, max = 2) int kvLog,
            @ForAll @IntRange(min = 1, max = 2) int halfHead, @ForAll @IntRange(min = 1, max = 6) int dim,
            @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 5) int t, @ForAll boolean bias,
            @ForAll("ropes") RotaryEmbedding.Convention rope, @ForAll("norms") NormKind qkNorm, @ForAll boolean cap,
            @ForAll boolean causal, @ForAll boolean packed, @ForAll long seed) {
        int heads = 1 << headsLog;
        int kv = 1 << Math.min(kvLog, headsLog);
        var c = config(dim, heads, kv, 2 * halfHead, bias, rope, qkNorm, cap ? 0.7 : 0);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(seed));
        Ref.randomizeNorms(mha, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, dim);
        long[][] docs = null;
        Tensor docTensor = null;
        if (packed) {
            docs = new long[b][t];
            Generator g = new Generator(seed + 2);
            long[] flat = new long[b * t];
            for (int i = 0; i < b; i++) {
                long doc = 0;
                for (int j = 0; j < t; j++) {
                    if (j > 0 && g.nextDouble() < 0.4) {
                        doc++;
                    }
                    docs[i][j] = doc;
                    flat[i * t + j] = doc;
                }
            }
            docTensor = Tensor.of(flat, b, t);
        }
        AttentionMask mask = new AttentionMask(causal, docTensor, 0);
        double[] expected = Ref.attention(c, Ref.d(x), b, t, mha.stateDict(), "", causal, docs);
        Ref.assertClose(expected, mha.forward(Variable.constant(x), mask).data(), 1e-9);
    }

    @Test
    void gradients() {
        var c = config(4, 4, 2, 2, true, RotaryEmbedding.Convention.HALF_SPLIT, NormKind.RMS_NORM, 1.5);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(3));
        Ref.randomizeNorms(mha, 3);
        Variable x = Ref.var(Ref.randn(4, 1, 2, 3, 4));
        ParamGradCheck.check(() -> mha.forward(x, AttentionMask.causalOnly()), ParamGradCheck.concat(mha.parameters(), x));
        var mqa = config(4, 2, 1, 4, false, RotaryEmbedding.Convention.INTERLEAVED, NormKind.LAYER_NORM, 0);
        MultiHeadAttention m2 = new MultiHeadAttention(mqa, new Generator(5));
        Variable x2 = Ref.var(Ref.randn(6, 1, 1, 4, 4));
        Tensor docs = Tensor.of(new long[] {0, 0, 1, 1}, 1, 4);
        ParamGradCheck.check(() -> m2.forward(x2, new AttentionMask(true, docs, 0)), ParamGradCheck.concat(m2.parameters(), x2));
    }

    @Provide
    Arbitrary<int[]> headLayouts() {
        return Arbitraries.of(new int[] {4, 4}, new int[] {4, 2}, new int[] {4, 1}); // MHA, GQA, MQA
    }

    @Property(tries = 24)
    void cachedDecodingEqualsFullCausalForward(@ForAll("headLayouts") int[] heads, @ForAll("ropes") RotaryEmbedding.Convention rope,
            @ForAll("norms") NormKind qkNorm, @ForAll boolean preallocated, @ForAll @IntRange(min = 0, max = 3) int prefill,
            @ForAll long seed) {
        int b = 2;
        int t = 6;
        var c = config(8, heads[0], heads[1], 2, false, rope, qkNorm, 0);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(seed));
        Ref.randomizeNorms(mha, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, 8);
        Tensor full = mha.forward(Variable.constant(x), AttentionMask.causalOnly()).data();
        KvCache cache = preallocated ? KvCache.preallocated(b, heads[1], t, 2, DType.F64) : KvCache.growing();
        List<Tensor> steps = new ArrayList<>();
        int pos = 0;
        if (prefill > 0) {
            steps.add(mha.forward(Variable.constant(x.narrow(1, 0, prefill)), AttentionMask.causalOnly(), cache).data());
            pos = prefill;
        }
        for (; pos < t; pos++) {
            steps.add(mha.forward(Variable.constant(x.narrow(1, pos, 1)), AttentionMask.causalOnly(), cache).data());
        }
        assertEquals(t, cache.length());
        Ref.assertClose(full, Tensor.cat(1, steps.toArray(new Tensor[0])), 1e-12);
    }

    @Test
    void cachedDecodingUsesQueryOffsetAndDocumentIds() {
        var c = config(8, 2, 1, 4, false, RotaryEmbedding.Convention.HALF_SPLIT, null, 0);
        List<Integer> offsets = new ArrayList<>();
        SoftmaxAttention softmax = new SoftmaxAttention();
        AttentionKernel recording = (q, k, v, m) -> {
            offsets.add(m.queryOffset());
            return softmax.attend(q, k, v, m);
        };
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(1), recording);
        Tensor x = Ref.randn(2, 1, 1, 5, 8);
        Tensor docs = Tensor.of(new long[] {0, 0, 1, 1, 1}, 1, 5);
        Tensor full = mha.forward(Variable.constant(x), new AttentionMask(true, docs, 0)).data();
        offsets.clear();
        KvCache cache = KvCache.preallocated(1, 1, 5, 4, DType.F64);
        List<Tensor> steps = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            // the caller passes the document ids of all keys seen so far; the module sets queryOffset = cache length
            AttentionMask m = new AttentionMask(true, docs.narrow(1, 0, p + 1).contiguous(), 0);
            steps.add(mha.forward(Variable.constant(x.narrow(1, p, 1)), m, cache).data());
        }
        assertEquals(List.of(0, 1, 2, 3, 4), offsets);
        Ref.assertClose(full, Tensor.cat(1, steps.toArray(new Tensor[0])), 1e-12);
    }

    @Test
    void packedDocumentsNeverSeeEachOther() {
        var c = config(8, 4, 2, 4, true, RotaryEmbedding.Convention.HALF_SPLIT, NormKind.RMS_NORM, 0);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(7));
        Tensor a = Ref.randn(10, 1, 1, 3, 8);
        Tensor b = Ref.randn(11, 1, 1, 4, 8);
        Tensor b2 = Ref.randn(12, 1, 1, 4, 8);
        Tensor docs = Tensor.of(new long[] {0, 0, 0, 1, 1, 1, 1}, 1, 7);
        AttentionMask mask = new AttentionMask(true, docs, 0);
        Tensor packed = mha.forward(Variable.constant(Tensor.cat(1, a, b)), mask).data();
        Tensor packed2 = mha.forward(Variable.constant(Tensor.cat(1, a, b2)), mask).data();
        Tensor aloneA = mha.forward(Variable.constant(a), AttentionMask.causalOnly()).data();
        Tensor aloneB = mha.forward(Variable.constant(b), AttentionMask.causalOnly()).data();
        // document 0 is untouched by whatever document 1 holds, and equals its unpacked forward
        Ref.assertClose(aloneA, packed.narrow(1, 0, 3), 1e-12);
        Ref.assertClose(aloneA, packed2.narrow(1, 0, 3), 1e-12);
        // document 1 sits at positions 3..6, but RoPE is relative, so it equals its own forward from position 0
        Ref.assertClose(aloneB, packed.narrow(1, 3, 4), 1e-10);
    }

    @Test
    void softCapBoundsLogitsAndChangesOutput() {
        Variable big = Variable.constant(Tensor.of(new double[] {-1000, -3, 0, 3, 1000}, 5));
        double[] capped = Ref.d(SoftCap.apply(big, 50).data());
        assertEquals(-50, capped[0], 1e-9);
        assertEquals(50 * Math.tanh(3.0 / 50), capped[3], 1e-12);
        assertEquals(50, capped[4], 1e-9);
        assertEquals(0.125, LogitScale.inverseSqrt(64));
    }

    @Test
    void namesAndConfigErrors() {
        var c = config(8, 4, 2, 2, true, RotaryEmbedding.Convention.HALF_SPLIT, NormKind.RMS_NORM, 0);
        Map<String, Variable> p = new MultiHeadAttention(c, new Generator(1)).namedParameters();
        assertEquals(List.of("q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias",
                "o_proj.weight", "o_proj.bias", "q_norm.weight", "k_norm.weight"), List.copyOf(p.keySet()));
        assertEquals(List.of(8, 2), List.of(p.get("q_proj.weight").size(0), p.get("k_proj.weight").size(0) / 2));
        var e = assertThrows(IllegalArgumentException.class, () -> config(8, 4, 3, 2, false, null, null, 0));
        assertEquals("MultiHeadAttention.Config: numKvHeads 3 does not divide numHeads 4", e.getMessage());
        var cache = KvCache.preallocated(1, 2, 2, 2, DType.F64);
        MultiHeadAttention m = new MultiHeadAttention(c, new Generator(1));
        var x = Variable.constant(Ref.randn(1, 1, 1, 3, 8));
        var s = assertThrows(IllegalStateException.class, () -> m.forward(x, AttentionMask.causalOnly(), cache));
        assertEquals("KvCache: appending 3 positions to 0 exceeds capacity 2", s.getMessage());
    }

    @Test
    void attentionDropoutIsSeededAndOffInEval() {
        var c = config(8, 2, 2, 4, false, null, null, 0).withDropout(0.5);
        Tensor x = Ref.randn(3, 1, 1, 4, 8);
        Tensor a = new MultiHeadAttention(c, new Generator(1)).forward(Variable.constant(x), AttentionMask.causalOnly()).data();
        Tensor b = new MultiHeadAttention(c, new Generator(1)).forward(Variable.constant(x), AttentionMask.causalOnly()).data();
        Ref.assertClose(a, b, 0);
        MultiHeadAttention m = new MultiHeadAttention(c, new Generator(1));
        m.eval();
        MultiHeadAttention plain = new MultiHeadAttention(c.withDropout(0), new Generator(1));
        Ref.assertClose(plain.forward(Variable.constant(x), AttentionMask.causalOnly()).data(),
                m.forward(Variable.constant(x), AttentionMask.causalOnly()).data(), 0);
    }
}
