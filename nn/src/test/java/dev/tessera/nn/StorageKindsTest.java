package dev.tessera.nn;

import static dev.tessera.nn.StorageKinds.assertSameOnEveryKind;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Every fused op and fast path of nn, forward and backward, gives on off-heap and on memory-mapped
 * tensors (inputs and incoming gradient) what it gives on heap tensors: kernels must not assume a
 * Java array behind the storage.
 */
class StorageKindsTest {
    static final double F32_TOL = 1e-6;
    static final double F64_TOL = 1e-12;
    static final DType[] DTYPES = {DType.F32, DType.F64};

    static double tol(DType dtype) {
        return dtype == DType.F64 ? F64_TOL : F32_TOL;
    }

    static Tensor randn(long seed, DType dtype, int... shape) {
        return Tensor.randn(new Generator(seed), dtype, shape);
    }

    @Test
    void crossEntropyFusedAndComposite() {
        Tensor targets = Tensor.of(new long[] {2, Losses.IGNORE_INDEX, 0, 4, 1, 3}, 2, 3);
        for (DType dtype : DTYPES) {
            Tensor logits = randn(1, dtype, 2, 3, 5).mul(3);
            Tensor one = Tensor.scalar(1.5, dtype);
            assertSameOnEveryKind("crossEntropyFused " + dtype, tol(dtype),
                    v -> Losses.crossEntropyFused(v[0], targets, Losses.IGNORE_INDEX, 0.1), one, logits);
            assertSameOnEveryKind("crossEntropyFused, no smoothing " + dtype, tol(dtype),
                    v -> Losses.crossEntropyFused(v[0], targets), one, logits);
            assertSameOnEveryKind("crossEntropy + zLoss " + dtype, tol(dtype),
                    v -> Losses.crossEntropy(v[0], targets, Losses.IGNORE_INDEX, 0.1).add(Losses.zLoss(v[0], 1e-2)), one, logits);
        }
    }

    @Test
    void rmsNormFused() {
        for (DType dtype : DTYPES) {
            Tensor x = randn(2, dtype, 2, 3, 7);
            Tensor w = randn(3, dtype, 7);
            assertSameOnEveryKind("RmsNormFunction " + dtype, tol(dtype), v -> new RmsNormFunction(1e-5).call(v[0], v[1]),
                    randn(4, dtype, 2, 3, 7), x, w);
            RMSNorm norm = new RMSNorm(7, 1e-5, true, dtype);
            assertSameOnEveryKind("RMSNorm " + dtype, tol(dtype), v -> norm.forward(v[0]), randn(4, dtype, 2, 3, 7), x);
        }
    }

    @Test
    void swiGluFused() {
        for (DType dtype : DTYPES) {
            int n = 37; // a vector-width tail
            assertSameOnEveryKind("SwiGluFunction " + dtype, tol(dtype), v -> new SwiGluFunction().call(v[0], v[1]),
                    randn(5, dtype, 2, n), randn(6, dtype, 2, n).mul(3), randn(7, dtype, 2, n));
        }
    }

    @Test
    void ropeFused() {
        for (DType dtype : DTYPES) {
            for (RotaryEmbedding.Convention convention : RotaryEmbedding.Convention.values()) {
                RotaryEmbedding rope = new RotaryEmbedding(6, 10000, convention, 8, dtype);
                assertSameOnEveryKind("rope " + convention + " " + dtype, tol(dtype), v -> rope.apply(v[0], 2),
                        randn(8, dtype, 2, 2, 3, 6), randn(9, dtype, 2, 2, 3, 6));
            }
        }
    }

    @Test
    void maskedSoftmaxFused() {
        AttentionMask causal = AttentionMask.causalOnly();
        for (DType dtype : DTYPES) {
            Tensor allowed = causal.allowedMatrix(2, 4, 4);
            assertSameOnEveryKind("MaskedSoftmaxFunction " + dtype, tol(dtype),
                    v -> new MaskedSoftmaxFunction(allowed, 0.5).call(v[0]), randn(10, dtype, 2, 2, 4, 4), randn(11, dtype, 2, 2, 4, 4));
        }
    }

    @Test
    void attentionKernels() {
        Tensor docs = Tensor.of(new long[] {0, 0, 1, 1, 1, 0, 0, 0, 0, 1}, 2, 5);
        AttentionMask mask = new AttentionMask(true, docs, 0);
        AttentionKernel[] kernels = {
            new SoftmaxAttention().withCausalBlock(2), // the causal-block path
            new SoftmaxAttention(), // the fused masked-softmax path
            new MemoryEfficientAttention(2),
            new KeyNormAttention(false, 1.0, true),
            new ALiBiAttention(2),
            new PerformerAttention(3, 8, new Generator(12)),
        };
        for (DType dtype : DTYPES) {
            for (AttentionKernel kernel : kernels) {
                Tensor q = randn(13, dtype, 2, 2, 5, 3);
                Tensor k = randn(14, dtype, 2, 2, 5, 3);
                Tensor v = randn(15, dtype, 2, 2, 5, 3);
                assertSameOnEveryKind(kernel.getClass().getSimpleName() + " " + dtype, dtype == DType.F64 ? 1e-10 : 1e-5,
                        x -> kernel.attend(x[0], x[1], x[2], mask), randn(16, dtype, 2, 2, 5, 3), q, k, v);
            }
        }
    }

    @Test
    void linearAndEmbeddingOnMappedActivations() {
        Linear linear = new Linear(4, 3, true, new Generator(17));
        assertSameOnEveryKind("Linear", F32_TOL, v -> linear.forward(v[0]), randn(18, DType.F32, 2, 3), randn(19, DType.F32, 2, 4));
        Tensor ids = StorageKinds.as(StorageKinds.Kind.MAPPED, Tensor.of(new long[] {3, 0, 3, 1}, 2, 2));
        assertSameOnEveryKind("embedding", F32_TOL, v -> v[0].embedding(ids), randn(20, DType.F32, 2, 2, 5), randn(21, DType.F32, 4, 5));
    }
}
