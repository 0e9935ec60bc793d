package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The CUDA backend as the tensor module finds it: a ServiceLoader provider that needs no GPU until first use. */
class CudaTensorBackendTest {
    private static void assumeNoDriver() {
        Assumptions.assumeTrue(CudaLibraries.locate(CudaLibraries.DRIVER).isEmpty(), "a CUDA driver is installed here");
    }

    @Test
    void theServiceLoaderFindsTheCudaProviderWithoutOpeningCuda() {
        long cuda = ServiceLoader.load(Backend.class).stream().map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof CudaTensorBackend && b.device() == Device.CUDA).count();
        assertEquals(1, cuda, "one CUDA provider registered for dev.tessera.tensor.Backend");
    }

    @Test
    void usingCudaWithoutADriverIsOneLineNamingLibcuda() {
        assumeNoDriver();
        Backend b = Dispatch.backend(Device.CUDA);
        assertTrue(b instanceof CudaTensorBackend, b.getClass().getName());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.allocate(DType.F32, 4));
        assertEquals(CudaBackend.NO_DRIVER, e.getMessage());
        IllegalStateException z = assertThrows(IllegalStateException.class, () -> Tensor.zeros(Device.CUDA, DType.F32, 2, 3));
        assertEquals(CudaBackend.NO_DRIVER, z.getMessage());
        IllegalStateException up = assertThrows(IllegalStateException.class, () -> Tensor.of(new float[] {1, 2}, 2).to(Device.CUDA));
        assertTrue(up.getMessage().contains("libcuda") && !up.getMessage().contains("\n"), up.getMessage());
        assertEquals("cuda (unavailable: " + CudaBackend.NO_DRIVER + ")", b.name());
    }

    @Test
    void anOpWithoutAKernelIsRefusedInOneLineBeforeCudaOpens() {
        CudaTensorBackend b = new CudaTensorBackend(() -> {
            throw new AssertionError("CUDA opened for an op that has no kernel");
        });
        Backend.OpCall call = new Backend.OpCall("scatterAdd", 0, new Tensor[3], in -> null);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> b.run(call));
        assertEquals("scatterAdd Integer: no cuda kernel (the CUDA backend covers " + CudaTensorBackend.CENSUS_COVERED + " of the "
                + CudaTensorBackend.CENSUS_OPS + " ops the presets use; see gpu/README.md)", e.getMessage());
        UnsupportedOperationException eq = assertThrows(UnsupportedOperationException.class,
                () -> b.run(new Backend.OpCall("binary", BinaryOp.EQ, new Tensor[2], in -> null)));
        assertTrue(eq.getMessage().startsWith("binary EQ: no cuda kernel"), eq.getMessage());
    }

    /** download copies only [lo, hi] of the storage: every view rebuilt from that span alone equals the view. */
    @Test
    void theDownloadedSpanHoldsEveryElementOfTheView() {
        Tensor base = Tensor.arange(5 * 6 * 7).to(DType.F32).reshape(5, 6, 7);
        for (Tensor view : new Tensor[] {base, base.transpose(0, 2), base.narrow(1, 2, 3), base.select(0, 4).narrow(1, 3, 2),
                base.slice(2, 1, 7, 3).permute(2, 0, 1), base.select(2, 6).select(1, 5), base.narrow(0, 1, 1).expand(3, 6, 7)}) {
            long[] span = CudaTensorBackend.span(view.shape(), view.strides(), view.offset());
            float[] all = base.toFloatArray();
            float[] copied = java.util.Arrays.copyOfRange(all, (int) span[0], (int) span[1] + 1);
            Tensor rebuilt = Tensor.asStrided(Tensor.of(copied, copied.length).storage(), view.shape(), view.strides(),
                    (int) (view.offset() - span[0]));
            assertArrayEquals(view.contiguous().toFloatArray(), rebuilt.contiguous().toFloatArray(), java.util.Arrays.toString(view.shape()));
            assertTrue(span[1] - span[0] + 1 <= all.length);
        }
        assertArrayEquals(new long[] {13, 13}, CudaTensorBackend.span(new int[0], new int[0], 13));
    }

    @Test
    void opKeysNameEnumsByConstantAndEverythingElseByClass() {
        assertEquals("binary ADD", CudaTensorBackend.opKey("binary", BinaryOp.ADD));
        assertEquals("copy -", CudaTensorBackend.opKey("copy", null));
        assertEquals("sum Object[]", CudaTensorBackend.opKey("sum", new Object[] {true, new int[] {1}}));
        assertEquals("softmax Integer", CudaTensorBackend.opKey("softmax", -1));
        Object anonymous = new Object() {};
        assertEquals("x " + anonymous.getClass().getName().substring(anonymous.getClass().getName().lastIndexOf('.') + 1),
                CudaTensorBackend.opKey("x", anonymous));
    }

    @Test
    void supportsFollowsTheTableAndLeavesOutWhatTheKernelsWouldGetWrong() {
        assertTrue(CudaTensorBackend.supports("unary", UnaryOp.GELU_ERF));
        assertTrue(CudaTensorBackend.supports("binary_", BinaryOp.MUL));
        assertTrue(CudaTensorBackend.supports("fill_", 0.0));
        assertTrue(CudaTensorBackend.supports("to_dtype", DType.BF16));
        assertFalse(CudaTensorBackend.supports("binary", BinaryOp.LT), "comparisons give BOOL on the host, F32 from the kernel");
        assertFalse(CudaTensorBackend.supports("unary", UnaryOp.LOGICAL_NOT));
        assertFalse(CudaTensorBackend.supports("unary", UnaryOp.SIGN), "the kernel keeps NaN and -0, the host gives +0");
        assertFalse(CudaTensorBackend.supports("to_dtype", DType.I64));
        assertTrue(CudaTensorBackend.supports("embedding", null));
        assertTrue(CudaTensorBackend.supports("embedding_backward", 50257));
        assertFalse(CudaTensorBackend.supports("gather", 0), "a general gather has no kernel");
    }
}
