package dev.tessera.nn.norm;

import static dev.tessera.nn.StorageKinds.DTYPES;
import static dev.tessera.nn.StorageKinds.assertSameOnEveryKind;
import static dev.tessera.nn.StorageKinds.randn;
import static dev.tessera.nn.StorageKinds.tol;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The fused RMSNorm reads off-heap and memory-mapped operands as it reads heap ones (see {@code StorageKindsTest}). */
class NormStorageKindsTest {
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
}
