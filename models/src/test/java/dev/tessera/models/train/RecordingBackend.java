package dev.tessera.models.train;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.SimulatedBackend;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The simulated device with a notebook: every op that reaches the seam is recorded as
 * {@code name attributes} (see {@link #summary}) and then run by {@link SimulatedBackend#INSTANCE},
 * whose buffers this backend hands through untouched (they are private records, so delegation is
 * the only way to share them). Registered for {@link Device#SIM} it lists exactly the ops a device
 * backend must implement for the code that ran: the op census the CUDA backend is measured against.
 */
final class RecordingBackend implements Backend {
    private final Set<String> ops = new ConcurrentSkipListSet<>();

    /**
     * How an op's attributes appear in the census: an enum by its constant ({@code ADD}), nothing as
     * {@code -}, anything else by its class's simple name ({@code Object[]}, {@code Integer},
     * {@code RmsNormFunction}, {@code AdamW}), so the line names the kernel without the call's values.
     */
    static String summary(Object attributes) {
        if (attributes == null) {
            return "-";
        }
        if (attributes instanceof Enum<?> e) {
            return e.name();
        }
        String simple = attributes.getClass().getSimpleName();
        return simple.isEmpty() ? attributes.getClass().getName().substring(attributes.getClass().getName().lastIndexOf('.') + 1) : simple;
    }

    /** The recorded {@code name attributes} lines, sorted. */
    SortedSet<String> ops() {
        return new TreeSet<>(ops);
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
        ops.add(call.name() + " " + summary(call.attributes()));
        return SimulatedBackend.INSTANCE.run(call);
    }

    @Override
    public void synchronize() {
        SimulatedBackend.INSTANCE.synchronize();
    }
}
