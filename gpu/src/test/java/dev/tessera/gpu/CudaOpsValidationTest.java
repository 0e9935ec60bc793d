package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The argument checks {@link CudaOps} makes before it queues anything, run without a GPU: the
 * tensors live on a backend that only hands out addresses, and the ops object has no CUDA backend
 * (a check that let a call through would fail on it instead of with the expected message).
 */
class CudaOpsValidationTest {
    /** Hands out distinct fake addresses; anything that would touch a device throws. */
    static final class AddressOnly implements DeviceRuntime {
        private long next = 0x1000;

        @Override
        public String name() {
            return "addresses";
        }

        @Override
        public long allocate(long bytes) {
            long p = next;
            next += bytes + 256;
            return p;
        }

        @Override
        public void free(long pointer) {}

        @Override
        public void copyToDevice(MemorySegment src, long dstPointer, long bytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copyToHost(long srcPointer, MemorySegment dst, long bytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void run(String op, List<DeviceTensor> inputs, List<DeviceTensor> outputs, Map<String, Number> attributes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void synchronize() {}

        @Override
        public void close() {}
    }

    private final AddressOnly mem = new AddressOnly();
    private final CudaOps ops = new CudaOps(null);

    private DeviceTensor f32(int... shape) {
        return DeviceTensor.empty(mem, DType.F32, shape);
    }

    @Test
    void ropePositionsMustFitTheTables() {
        DeviceTensor x = f32(2, 5, 8), cos = f32(8, 4), sin = f32(8, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> ops.rope(x, cos, sin, 1, 5, 4, true, false));
        assertEquals("cuda rope: positions 0..8 (seqLen 5 + posOffset 4) need 9 table rows, cos/sin have 8", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ops.rope(x, cos, sin, 1, 5, -1, true, false));
        assertThrows(IllegalArgumentException.class, () -> ops.rope(x, cos, f32(4, 4), 1, 5, 0, true, false));
        assertThrows(IllegalArgumentException.class, () -> ops.rope(x, cos, sin, 0, 5, 0, true, false));
    }

    @Test
    void crossEntropyTargetsMustBeContiguous() {
        DeviceTensor logits = f32(4, 10);
        DeviceTensor wide = DeviceTensor.empty(mem, DType.I64, 4, 2);
        DeviceTensor column = wide.withLayout(new int[] {4}, new long[] {2}); // every other element
        var e = assertThrows(IllegalArgumentException.class, () -> ops.crossEntropy(logits, column, -100));
        assertEquals("DeviceTensor.crossEntropy targets: needs a contiguous tensor, got shape [4] strides [2]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ops.crossEntropyBackward(logits, column, f32(4), -100, 1f));
    }

    @Test
    void attentionHeadDimAndGroupsAreChecked() {
        var e = assertThrows(IllegalArgumentException.class, () -> ops.attention(f32(1, 2, 4, 130), f32(1, 2, 4, 130),
                f32(1, 2, 4, 130), true, 1f));
        assertEquals("cuda attention: q [1, 2, 4, 130], k [1, 2, 4, 130], v [1, 2, 4, 130] (need (B,H,Tq,D), (B,Hkv,Tk,D),"
                + " Hkv | H, 1 <= D <= 128)", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ops.attention(f32(1, 3, 4, 8), f32(1, 2, 4, 8), f32(1, 2, 4, 8), true, 1f)); // 2 does not divide 3
        DeviceTensor q = f32(1, 2, 4, 8), kv = f32(1, 1, 5, 8);
        var fwd = new CudaOps.Attention(f32(1, 2, 4, 8), f32(1, 2, 4));
        assertThrows(IllegalArgumentException.class, () -> ops.attentionBackward(q, kv, kv, fwd, f32(1, 2, 5, 8), false, 1f));
    }
}
