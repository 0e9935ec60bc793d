package dev.tessera.tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A device whose memory is host memory behind the {@link Backend} seam, like PyTorch's fake devices:
 * tensors on it have no host-readable storage, every op reaches it through {@link Dispatch}, and it
 * runs the op's CPU kernel on host views of its buffers. Results are therefore bitwise the CPU's,
 * which is what lets a test prove that autograd, nn and the trainer run unchanged off the CPU and
 * that no op touches device memory from the host (a missed op throws, naming its caller).
 */
public final class SimulatedBackend implements Backend {
    public static final SimulatedBackend INSTANCE = new SimulatedBackend();

    private final java.util.concurrent.atomic.LongAdder opsRun = new java.util.concurrent.atomic.LongAdder();

    private SimulatedBackend() {}

    /** A buffer of the simulated device: host storage that only this backend reads. */
    private record Buffer(Storage host) implements DeviceMemory {
        @Override
        public Device device() {
            return Device.SIM;
        }
    }

    @Override
    public Device device() {
        return Device.SIM;
    }

    @Override
    public String name() {
        return "sim (host memory behind the backend seam)";
    }

    /** How many ops this backend has run, for tests that check work really went through the seam. */
    public long opsRun() {
        return opsRun.sum();
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        return adopt(Storage.allocate(dtype, length));
    }

    @Override
    public Storage upload(Tensor host) {
        return adopt(host.copy().storage());
    }

    @Override
    public Tensor download(Tensor onDevice) {
        return hostView(onDevice).copy();
    }

    @Override
    public Object run(OpCall call) {
        Tensor[] inputs = call.inputs();
        Tensor[] host = new Tensor[inputs.length];
        int[] versions = new int[inputs.length];
        Map<Storage, Storage> deviceOf = new IdentityHashMap<>();
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t != null && t.device() == Device.SIM) {
                host[i] = hostView(t);
                versions[i] = host[i].storage().version();
                deviceOf.put(host[i].storage(), t.storage());
            } else {
                host[i] = t;
                if (t != null) {
                    deviceOf.put(t.storage(), null); // a CPU scalar: results never alias it
                }
            }
        }
        Object out = call.hostKernel().apply(host);
        opsRun.increment();
        for (int i = 0; i < inputs.length; i++) {
            if (host[i] != null && inputs[i].device() == Device.SIM && host[i].storage().version() != versions[i]) {
                inputs[i].storage().bumpVersion();
            }
        }
        return onDevice(call.name(), out, deviceOf);
    }

    @Override
    public void synchronize() {}

    private static Tensor hostView(Tensor t) {
        Storage host = ((Buffer) t.storage().deviceMemory()).host();
        return new Tensor(host, t.shape(), t.strides(), t.offset());
    }

    private static Storage adopt(Storage host) {
        return Storage.onDevice(host.dtype(), host.length(), new Buffer(host));
    }

    /** The host kernel's result with every tensor moved onto this device (its own buffers kept, no copy). */
    private static Object onDevice(String op, Object out, Map<Storage, Storage> deviceOf) {
        return switch (out) {
            case null -> null;
            case Tensor t -> onDevice(t, deviceOf);
            case Tensor[] ts -> {
                Tensor[] r = new Tensor[ts.length];
                for (int i = 0; i < ts.length; i++) {
                    r[i] = ts[i] == null ? null : onDevice(ts[i], deviceOf);
                }
                yield r;
            }
            default -> throw new IllegalStateException(op + ": the sim backend cannot move a " + out.getClass().getSimpleName()
                    + " result onto the device (return tensors)");
        };
    }

    private static Tensor onDevice(Tensor t, Map<Storage, Storage> deviceOf) {
        Storage host = t.storage();
        Storage device = deviceOf.get(host);
        if (device == null) {
            boolean array = host.deviceMemory() == null && host.array() != null && !deviceOf.containsKey(host);
            device = adopt(array ? host : Tensor.of(host, host.length()).copy().storage());
            deviceOf.put(host, device);
        }
        return new Tensor(device, t.shape(), t.strides(), t.offset());
    }
}
