package dev.tessera.nn.position;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** A7: RoPE against RoFormer's rotation in double, both conventions, relative positions, base 500000. */
class RotaryEmbeddingTest {
    private static final RotaryEmbedding.Convention HALF = RotaryEmbedding.Convention.HALF_SPLIT;
    private static final RotaryEmbedding.Convention INTER = RotaryEmbedding.Convention.INTERLEAVED;

    static double[] reference(Tensor x, int offset, double base, RotaryEmbedding.Convention conv) {
        int b = x.size(0);
        int h = x.size(1);
        int t = x.size(2);
        int d = x.size(3);
        double[] v = Ref.d(x);
        for (int bb = 0; bb < b; bb++) {
            for (int hh = 0; hh < h; hh++) {
                for (int tt = 0; tt < t; tt++) {
                    Ref.rope(v, ((bb * h + hh) * t + tt) * d, d, offset + tt, base, conv);
                }
            }
        }
        return v;
    }

    @Property(tries = 50)
    void matchesReference(@ForAll RotaryEmbedding.Convention conv, @ForAll @IntRange(min = 1, max = 2) int b,
            @ForAll @IntRange(min = 1, max = 3) int h, @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 1, max = 5) int half,
            @ForAll @IntRange(min = 0, max = 40) int offset, @ForAll boolean llama3, @ForAll long seed) {
        double base = llama3 ? 500000 : 10000;
        int d = 2 * half;
        // a small table so that large offsets exercise regrowth
        RotaryEmbedding rope = new RotaryEmbedding(d, base, conv, 8, DType.F64);
        Tensor x = Ref.randn(seed, 1, b, h, t, d);
        Ref.assertClose(reference(x, offset, base, conv), rope.apply(Variable.constant(x), offset).data(), 1e-12);
        RotaryEmbedding f32 = new RotaryEmbedding(d, base, conv, 64, DType.F32);
        Ref.assertClose(reference(x, offset, base, conv), f32.apply(Variable.constant(x.to(DType.F32)), offset).data(), 1e-5);
    }

    /** π maps half-split slot j to interleaved slot: π(i) = 2i, π(i + d/2) = 2i + 1. */
    static Tensor permutation(int d) {
        long[] pi = new long[d];
        for (int i = 0; i < d / 2; i++) {
            pi[i] = 2L * i;
            pi[i + d / 2] = 2L * i + 1;
        }
        return Tensor.of(pi, d);
    }

    @Property(tries = 30)
    void conventionsAreTheSameRotationUpToAPermutation(@ForAll @IntRange(min = 1, max = 8) int half, @ForAll @IntRange(min = 0, max = 20) int offset,
            @ForAll long seed) {
        int d = 2 * half;
        Tensor pi = permutation(d);
        Tensor x = Ref.randn(seed, 1, 2, 2, 3, d);
        Variable inter = new RotaryEmbedding(d, 500000, INTER, 32, DType.F64).apply(Variable.constant(x), offset);
        Variable halfSplit = new RotaryEmbedding(d, 500000, HALF, 32, DType.F64).apply(Variable.constant(x.indexSelect(-1, pi)), offset);
        Ref.assertClose(inter.data().indexSelect(-1, pi), halfSplit.data(), 1e-13);
    }

    @Property(tries = 30)
    void dotProductDependsOnlyOnRelativePosition(@ForAll RotaryEmbedding.Convention conv, @ForAll @IntRange(min = 0, max = 50) int m,
            @ForAll @IntRange(min = 0, max = 50) int n, @ForAll @IntRange(min = 0, max = 500) int shift, @ForAll boolean llama3,
            @ForAll long seed) {
        int d = 16;
        RotaryEmbedding rope = new RotaryEmbedding(d, llama3 ? 500000 : 10000, conv, 16, DType.F64);
        Variable q = Variable.constant(Ref.randn(seed, 1, 1, 1, 1, d));
        Variable k = Variable.constant(Ref.randn(seed + 1, 1, 1, 1, 1, d));
        double a = rope.apply(q, m).mul(rope.apply(k, n)).sum().item();
        double b = rope.apply(q, m + shift).mul(rope.apply(k, n + shift)).sum().item();
        assertEquals(a, b, 1e-9 * (1 + Math.abs(a)));
        // rotation keeps norms
        assertEquals(q.data().square().sum().item(), rope.apply(q, m).data().square().sum().item(), 1e-10);
    }

    @Test
    void llama3BaseRotatesSlowerThanLlama2() {
        // the lowest-frequency pair turns by m·base^(−(d−2)/d): tiny for 500000
        RotaryEmbedding r = new RotaryEmbedding(4, 500000, HALF, 4, DType.F64);
        Tensor x = Tensor.of(new double[] {0, 1, 0, 0}, 1, 1, 1, 4); // pair 1 = dims (1, 3)
        double[] y = Ref.d(r.apply(Variable.constant(x), 1000).data());
        double theta = 1000 * Math.pow(500000, -2.0 / 4);
        assertEquals(Math.cos(theta), y[1], 1e-12);
        assertEquals(Math.sin(theta), y[3], 1e-12);
    }

    @Test
    void tablesAreNonPersistentBuffersAndGradientsFlow() {
        RotaryEmbedding rope = new RotaryEmbedding(6, 10000, INTER, 4, DType.F64);
        assertTrue(rope.stateDict().isEmpty());
        assertTrue(rope.parameters().isEmpty());
        for (RotaryEmbedding.Convention conv : RotaryEmbedding.Convention.values()) {
            RotaryEmbedding r = new RotaryEmbedding(6, 10000, conv, 4, DType.F64);
            Tensor x = Ref.randn(3, 1, 2, 2, 3, 6).transpose(1, 2); // non-contiguous (B, H, T, D)
            GradCheck.check(v -> r.apply(v[0], 5), x);
        }
    }
}
