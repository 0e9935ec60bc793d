package dev.tessera.tensor;

import java.util.Locale;

/**
 * Where a tensor's storage lives. CPU is host memory, used by this module's own kernels; every other
 * device is served by a {@link Backend}: CUDA by the {@code tessera-gpu} module, SIM by
 * {@link SimulatedBackend}, a stand-in that keeps its buffers in host memory but goes through the
 * same seam, so tests prove on any machine that code runs unchanged off the CPU.
 */
public enum Device {
    CPU, CUDA, SIM;

    /** The lower-case name used on command lines and in messages: {@code cpu}, {@code cuda}, {@code sim}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code cpu}, {@code cuda} or {@code sim} (case-insensitive), with a one-line error otherwise. */
    public static Device parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda" -> CUDA;
            case "sim" -> SIM;
            default -> throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, cuda or sim)");
        };
    }
}
