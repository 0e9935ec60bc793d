package dev.tessera.models.train;

import dev.tessera.gpu.CudaTensorBackend;
import dev.tessera.tensor.Backend;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.SimulatedBackend;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simulated device with a notebook: every op that reaches the seam is recorded by its key,
 * {@code name attributes} ({@link CudaTensorBackend#opKey}, the key the CUDA backend's op table
 * uses), and then run by {@link SimulatedBackend#INSTANCE},
 * whose buffers this backend hands through untouched (they are private records, so delegation is
 * the only way to share them). Registered for {@link Device#SIM} it lists exactly the ops a device
 * backend must implement for the code that ran: the op census the CUDA backend is measured against.
 */
final class RecordingBackend implements Backend {
    private final Map<String, OpCall> first = new ConcurrentHashMap<>();

    /** The recorded {@code name attributes} lines, sorted. */
    SortedSet<String> ops() {
        return new TreeSet<>(first.keySet());
    }

    /** The first call recorded under {@code key} (its attributes object and input tensors), or null. */
    OpCall first(String key) {
        return first.get(key);
    }

    @Override
    public Device device() {
        return Device.SIM;
    }

    @Override
    public String name() {
        return "sim, recording every op";
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        return SimulatedBackend.INSTANCE.allocate(dtype, length);
    }

    @Override
    public Storage upload(Tensor host) {
        return SimulatedBackend.INSTANCE.upload(host);
    }

    @Override
    public Tensor download(Tensor onDevice) {
        return SimulatedBackend.INSTANCE.download(onDevice);
    }

    @Override
    public Object run(OpCall call) {
        first.putIfAbsent(CudaTensorBackend.opKey(call.name(), call.attributes()), call);
        return SimulatedBackend.INSTANCE.run(call);
    }

    @Override
    public void synchronize() {
        SimulatedBackend.INSTANCE.synchronize();
    }
}
