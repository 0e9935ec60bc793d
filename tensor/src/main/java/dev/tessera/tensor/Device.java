package dev.tessera.tensor;

/** Where a tensor's storage lives. Only CPU storage exists in this module; backends add others. */
public enum Device {
    CPU, CUDA;

    /** Parses {@code cpu} or {@code cuda} (case-insensitive), with a one-line error otherwise. */
    public static Device parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu or cuda)");
        };
    }
}
