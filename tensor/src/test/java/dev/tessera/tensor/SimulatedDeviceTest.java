package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The device seam on the simulated device: same bits as the CPU, no host access, one-line errors. */
class SimulatedDeviceTest {
    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F32, shape);
    }

    @Test
    void opsOnTheSimulatedDeviceGiveTheCpuBitsAndStayOnTheDevice() {
        Tensor a = randn(1, 4, 6);
        Tensor b = randn(2, 6, 5);
        Tensor sa = a.to(Device.SIM);
        Tensor sb = b.to(Device.SIM);
        long before = SimulatedBackend.INSTANCE.opsRun();
        Tensor cpu = a.matmul(b).softmax(-1).mul(3).add(a.sum(true, 1)).exp();
        Tensor sim = sa.matmul(sb).softmax(-1).mul(3).add(sa.sum(true, 1)).exp();
        assertEquals(Device.SIM, sim.device());
        assertTrue(SimulatedBackend.INSTANCE.opsRun() - before >= 6, "each op went through the backend");
        assertArrayEquals(cpu.toFloatArray(), sim.toFloatArray());
        assertEquals(cpu.getFloat(1, 2), sim.getFloat(1, 2));
        assertEquals(cpu.sum().item(), sim.sum().item());
    }

    @Test
    void viewsAreFreeOnTheDeviceAndInPlaceOpsBumpTheDeviceVersion() {
        Tensor s = randn(3, 3, 4).to(Device.SIM);
        Tensor t = s.transpose(0, 1);
        assertSame(s.storage(), t.storage());
        int version = s.storage().version();
        Tensor r = t.addInPlace(Tensor.ones(4, 3).to(Device.SIM));
        assertSame(t, r);
        assertNotEquals(version, s.storage().version());
        Tensor host = randn(3, 3, 4).transpose(0, 1).add(Tensor.ones(4, 3));
        assertArrayEquals(host.toFloatArray(), t.toFloatArray());
        s.set(7, 2, 1);
        assertEquals(7f, s.getFloat(2, 1));
    }

    @Test
    void hostCodeThatReadsDeviceMemoryThrowsNamingItself() {
        Tensor s = Tensor.ones(3).to(Device.SIM);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.storage().floats());
        assertTrue(e.getMessage().contains("SimulatedDeviceTest") && e.getMessage().contains("sim"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void mixingDevicesIsAOneLineErrorButACpuScalarJoinsAnyDevice() {
        Tensor s = Tensor.ones(2, 3).to(Device.SIM);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.add(Tensor.ones(2, 3)));
        assertTrue(e.getMessage().startsWith("binary: input 1 of shape [2, 3] is on cpu but another input is on sim"), e.getMessage());
        assertEquals(Device.SIM, s.add(Tensor.scalar(2)).device());
        assertEquals(Device.SIM, Tensor.zeros(Device.SIM, DType.BF16, 2).device());
        assertArrayEquals(new float[] {6, 6, 6}, s.add(2).sum(0).toFloatArray());
    }

    @Test
    void copiesToAndFromTheDeviceKeepDtypeShapeAndValues() {
        Tensor a = Tensor.of(new long[] {5, -3, 9}, 3);
        Tensor s = a.to(Device.SIM);
        assertEquals(DType.I64, s.dtype());
        assertSame(s, s.to(Device.SIM));
        Tensor back = s.to(Device.CPU);
        assertEquals(Device.CPU, back.device());
        assertArrayEquals(a.toLongArray(), back.toLongArray());
        assertTrue(s.toString().endsWith("on sim"), s.toString());
    }
}
