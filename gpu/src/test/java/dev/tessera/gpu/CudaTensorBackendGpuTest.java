package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SwiGlu;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

/**
 * Tensor ops on {@link Device#CUDA} through the seam (Dispatch, ServiceLoader, {@link CudaTensorBackend})
 * against the same ops on the CPU. Runs only where CUDA is present ({@link RequiresCuda}).
 */
@RequiresCuda
class CudaTensorBackendGpuTest {
    private static final Generator G = new Generator(14);

    private static Tensor randn(int... shape) {
        return Tensor.randn(G, DType.F32, shape);
    }

    /** op on the CPU and on CUDA (inputs copied there), compared elementwise within {@code tol} (relative to max(1, |expected|)). */
    private static void same(double tol, java.util.function.Function<Tensor[], Tensor> op, Tensor... cpu) {
        Tensor[] dev = new Tensor[cpu.length];
        for (int i = 0; i < cpu.length; i++) {
            dev[i] = cpu[i].rank() == 0 ? cpu[i] : cpu[i].to(Device.CUDA);
        }
        Tensor expected = op.apply(cpu);
        Tensor actual = op.apply(dev);
        assertEquals(Device.CUDA, actual.device());
        assertClose(expected, actual.to(Device.CPU), tol);
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        assertEquals(expected.dtype(), actual.dtype(), "dtype");
        float[] e = expected.to(DType.F32).toFloatArray();
        float[] a = actual.to(DType.F32).toFloatArray();
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i])) || Float.compare(e[i], a[i]) == 0,
                    "element " + i + ": expected " + e[i] + ", got " + a[i]);
        }
    }

    @Test
    void copiesBothWaysKeepEveryElementAndOnlyTheViewComesBack() {
        Tensor x = randn(3, 5, 7);
        Tensor d = x.to(Device.CUDA);
        assertArrayEquals(x.toFloatArray(), d.to(Device.CPU).toFloatArray());
        Tensor view = x.transpose(0, 2).narrow(1, 1, 3);
        assertArrayEquals(view.contiguous().toFloatArray(), d.transpose(0, 2).narrow(1, 1, 3).to(Device.CPU).toFloatArray());
        assertEquals(x.narrow(0, 2, 1).select(1, 4).select(1, 6).item(), d.narrow(0, 2, 1).select(1, 4).select(1, 6).item());
        Tensor ids = Tensor.of(new long[] {3, -1, 7}, 3);
        assertArrayEquals(ids.toLongArray(), ids.to(Device.CUDA).to(Device.CPU).toLongArray());
        assertArrayEquals(new float[6], Tensor.zeros(Device.CUDA, DType.F32, 2, 3).to(Device.CPU).toFloatArray());
    }

    @Test
    void elementwiseOpsMatchTheCpu() {
        for (UnaryOp op : UnaryOp.values()) {
            if (CudaTensorBackend.supports("unary", op)) {
                Tensor x = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT ? randn(4, 9).abs().add(0.1) : randn(4, 9);
                same(2e-5, in -> in[0].apply(op), x);
                same(2e-5, in -> in[0].transpose(0, 1).apply(op), x);
            }
        }
        for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAXIMUM, BinaryOp.MINIMUM}) {
            same(1e-6, in -> in[0].apply(op, in[1]), randn(2, 3, 4), randn(3, 1));
            same(1e-6, in -> in[0].apply(op, in[1]), randn(2, 3), Tensor.scalar(0.75)); // a CPU scalar joins the device
        }
        same(1e-6, in -> in[0].copy().mulInPlace(in[1]), randn(2, 5), randn(5));
        same(0, in -> in[0].mT().copy(), randn(4, 6));
        same(0, in -> in[0].zerosLike().copyFromInPlace(in[1].expand(3, 4)), randn(3, 4), randn(4));
        same(0, in -> in[0].zerosLike().fillInPlace(2.5), randn(3, 3));
        same(0, in -> in[0].to(DType.BF16), randn(5, 5));
        same(0, in -> in[0].to(DType.BF16).to(DType.F32), randn(5, 5));
    }

    @Test
    void matmulSoftmaxAndReductionsMatchTheCpu() {
        same(1e-4, in -> in[0].matmul(in[1]), randn(7, 5), randn(5, 3));
        same(1e-4, in -> in[0].matmul(in[1].mT()), randn(7, 5), randn(3, 5));
        same(1e-4, in -> in[0].matmul(in[1]), randn(2, 4, 5), randn(5, 6)); // a Linear's (B, T, C) @ (C, N)
        same(1e-4, in -> in[0].matmul(in[1].transpose(-1, -2)), randn(2, 3, 4, 5), randn(2, 3, 6, 5)); // q·kᵀ
        same(1e-5, in -> in[0].softmax(-1), randn(3, 4, 9));
        same(1e-5, in -> in[0].sum(true, -1), randn(3, 4, 9));
        same(1e-5, in -> in[0].mean(false, 2), randn(3, 4, 9));
        same(1e-5, in -> in[0].sum(), randn(3, 4, 9));
        same(1e-5, in -> in[0].mean(true), randn(3, 4));
        same(1e-5, in -> in[0].sum(true, 0, 1), randn(3, 4, 9)); // a bias gradient: the leading dims summed
        same(1e-5, in -> in[0].transpose(0, 2).sum(false, 1), randn(3, 4, 9));
        same(1e-5, in -> in[0].mean(false, 0, 2), randn(3, 4, 9));
        same(1e-5, in -> SwiGlu.forward(in[0], in[1]), randn(4, 6), randn(4, 6));
        same(1e-5, in -> SwiGlu.backward(in[0], in[1], in[2])[0], randn(4, 6), randn(4, 6), randn(4, 6));
    }

    @Test
    void casesWithoutAKernelAreOneLineErrors() {
        Tensor x = randn(3, 4).to(Device.CUDA);
        UnsupportedOperationException i32 = assertThrows(UnsupportedOperationException.class, () -> x.to(DType.I32).sum(false, 0));
        assertTrue(i32.getMessage().startsWith("to_dtype I32: no cuda kernel"), i32.getMessage());
        UnsupportedOperationException lt = assertThrows(UnsupportedOperationException.class, () -> x.lt(0));
        assertTrue(lt.getMessage().startsWith("binary LT: no cuda kernel"), lt.getMessage());
        UnsupportedOperationException cast = assertThrows(UnsupportedOperationException.class, () -> x.to(DType.I64));
        assertTrue(cast.getMessage().startsWith("to_dtype I64: no cuda kernel"), cast.getMessage());
    }
}
