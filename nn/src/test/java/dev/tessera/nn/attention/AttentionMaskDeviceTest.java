package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** AttentionMask.allowedMatrix on a device: the host matrix's values there, a document-free one moved once and reused. */
class AttentionMaskDeviceTest {
    @Test
    void aDocumentFreeMaskIsMovedOncePerShapeAndReused() {
        Tensor first = new AttentionMask(true, null, 2).allowedMatrix(Device.SIM, 2, 5, 7);
        assertEquals(Device.SIM, first.device());
        assertArrayEquals(new AttentionMask(true, null, 2).allowedMatrix(1, 5, 7).toFloatArray(), first.toFloatArray());
        assertSame(first, new AttentionMask(true, null, 2).allowedMatrix(Device.SIM, 3, 5, 7), "every layer of a step asks for the same mask");
        assertNotSame(first, new AttentionMask(true, null, 1).allowedMatrix(Device.SIM, 2, 5, 7), "another query offset is another mask");
        assertNotSame(first, new AttentionMask(false, null, 2).allowedMatrix(Device.SIM, 2, 5, 7), "a non-causal mask is another mask");
    }

    @Test
    void aDocumentMaskIsBuiltFromItsIdsOnTheDevice() {
        Tensor ids = Tensor.of(new long[] {0, 0, 1, 1, 0, 1, 1, 1}, 2, 4);
        Tensor host = new AttentionMask(true, ids, 0).allowedMatrix(2, 4, 4);
        Tensor onSim = new AttentionMask(true, ids.to(Device.SIM), 0).allowedMatrix(Device.SIM, 2, 4, 4);
        assertEquals(Device.SIM, onSim.device());
        assertArrayEquals(host.toFloatArray(), onSim.toFloatArray());
    }
}
