package dev.tessera.nn.ffn;

import static dev.tessera.nn.StorageKinds.DTYPES;
import static dev.tessera.nn.StorageKinds.assertSameOnEveryKind;
import static dev.tessera.nn.StorageKinds.randn;
import static dev.tessera.nn.StorageKinds.tol;

import dev.tessera.tensor.DType;
import org.junit.jupiter.api.Test;

/** SwiGLU's fused gate reads off-heap and memory-mapped operands as it reads heap ones (see {@code StorageKindsTest}). */
class FeedForwardStorageKindsTest {
    @Test
    void swiGluFused() {
        for (DType dtype : DTYPES) {
            int n = 37; // a vector-width tail
            assertSameOnEveryKind("SwiGluFunction " + dtype, tol(dtype), v -> new SwiGluFunction().call(v[0], v[1]),
                    randn(5, dtype, 2, n), randn(6, dtype, 2, n).mul(3), randn(7, dtype, 2, n));
        }
    }
}
