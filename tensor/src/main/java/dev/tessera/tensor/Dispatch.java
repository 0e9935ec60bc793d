package dev.tessera.tensor;

import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * Where every op finds its kernel by the device of its inputs: CPU inputs run the CPU kernel
 * directly (one loop over the inputs is all it costs), anything else goes to that device's
 * {@link Backend}. Inputs must share one device; a 0-d CPU tensor may join any device as a scalar,
 * as in PyTorch. Ops are named here once; a backend maps the name to its kernel.
 */
public final class Dispatch {
    /** By device ordinal; written under the class lock, read without it (every device op looks its backend up). */
    private static volatile Backend[] backends = new Backend[Device.values().length];

    private Dispatch() {}

    /**
     * Runs op {@code name} on {@code inputs}: {@code hostKernel.apply(inputs)} when they are on the CPU,
     * otherwise the device's backend (which returns tensors on that device).
     */
    @SuppressWarnings("unchecked")
    public static <R> R run(String name, Object attributes, Function<Tensor[], R> hostKernel, Tensor... inputs) {
        Device device = deviceOf(name, inputs);
        if (device == Device.CPU) {
            return hostKernel.apply(inputs);
        }
        return (R) backend(device).run(new Backend.OpCall(name, attributes, inputs, hostKernel));
    }

    /** The one device of {@code inputs} (CPU when all are), or a one-line error naming the op and the devices. */
    public static Device deviceOf(String name, Tensor... inputs) {
        Device device = Device.CPU;
        for (Tensor t : inputs) {
            if (t != null && !t.onHost()) {
                device = t.device();
                break;
            }
        }
        if (device == Device.CPU) {
            return device;
        }
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t != null && t.device() != device && !(t.onHost() && t.rank() == 0)) {
                throw new IllegalArgumentException(name + ": input " + i + " of shape " + Shapes.str(t.shape()) + " is on "
                        + t.device().label() + " but another input is on " + device.label()
                        + "; move them to one device with .to(device)");
            }
        }
        return device;
    }

    /** The backend serving {@code device}, loaded on first use; a one-line error when none is present. */
    public static Backend backend(Device device) {
        if (device == Device.CPU) {
            throw new IllegalArgumentException("the CPU has no backend: its kernels are this module's own");
        }
        Backend b = backends[device.ordinal()];
        return b != null ? b : load(device);
    }

    private static synchronized Backend load(Device device) {
        Backend b = backends[device.ordinal()];
        if (b == null) {
            b = device == Device.SIM ? SimulatedBackend.INSTANCE : ServiceLoader.load(Backend.class).stream().map(ServiceLoader.Provider::get)
                    .filter(p -> p.device() == device).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no " + device.label()
                            + " backend on the class path (the CUDA backend is in tessera-gpu)"));
            register(b);
        }
        return b;
    }

    /** Registers {@code backend} for its device, replacing any other (for tests and embedders). */
    public static synchronized void register(Backend backend) {
        Backend[] next = backends.clone();
        next[backend.device().ordinal()] = backend;
        backends = next;
    }
}
