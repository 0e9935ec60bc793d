package dev.tessera.gpu;

import java.util.List;

/**
 * Turns CUDA C++ source into a loadable image for one architecture. {@link Nvrtc} is the real one;
 * tests inject a fake so {@link KernelCache}'s hit/miss and file handling run without a GPU.
 */
public interface KernelCompiler {
    /** Compiles {@code source} (named {@code name} in diagnostics) for {@code arch}, e.g. {@code sm_90}. */
    byte[] compile(String name, String source, List<String> options, String arch);

    /** Identifies the compiler version; a new compiler must not reuse an old compiler's cache entries. */
    default String identity() {
        return "unknown";
    }
}
