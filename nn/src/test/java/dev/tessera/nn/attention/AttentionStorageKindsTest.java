package dev.tessera.nn.attention;

import static dev.tessera.nn.StorageKinds.DTYPES;
import static dev.tessera.nn.StorageKinds.assertSameOnEveryKind;
import static dev.tessera.nn.StorageKinds.randn;
import static dev.tessera.nn.StorageKinds.tol;

import dev.tessera.nn.position.ALiBiAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The fused masked softmax and every attention kernel read off-heap and memory-mapped operands as they read heap ones (see {@code StorageKindsTest}). */
class AttentionStorageKindsTest {
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
}
