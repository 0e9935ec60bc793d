package dev.tessera.nn;

import static dev.tessera.nn.StorageKinds.DTYPES;
import static dev.tessera.nn.StorageKinds.F32_TOL;
import static dev.tessera.nn.StorageKinds.assertSameOnEveryKind;
import static dev.tessera.nn.StorageKinds.randn;
import static dev.tessera.nn.StorageKinds.tol;

import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.position.RotaryEmbedding;
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
    void linearAndEmbeddingOnMappedActivations() {
        Linear linear = new Linear(4, 3, true, new Generator(17));
        assertSameOnEveryKind("Linear", F32_TOL, v -> linear.forward(v[0]), randn(18, DType.F32, 2, 3), randn(19, DType.F32, 2, 4));
        Tensor ids = StorageKinds.as(StorageKinds.Kind.MAPPED, Tensor.of(new long[] {3, 0, 3, 1}, 2, 2));
        assertSameOnEveryKind("embedding", F32_TOL, v -> v[0].embedding(ids), randn(20, DType.F32, 2, 2, 5), randn(21, DType.F32, 4, 5));
    }
}
