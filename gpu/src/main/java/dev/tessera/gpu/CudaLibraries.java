package dev.tessera.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the CUDA libraries the backend binds through the FFM API: the driver ({@code libcuda.so.1}),
 * NVRTC and cuBLAS. Search order: the {@code tessera.cuda.lib} property (a directory), then
 * {@code CUDA_HOME/lib64}, {@code /usr/local/cuda/lib64}, then the system loader path.
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    /** Directories searched before the system loader path. */
    static List<Path> searchDirectories() {
        List<Path> dirs = new ArrayList<>();
        String override = System.getProperty("tessera.cuda.lib");
        if (override != null) {
            dirs.add(Path.of(override));
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null) {
            dirs.add(Path.of(home, "lib64"));
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        return dirs;
    }

    /** Where the library named {@code fileName} would load from, if it loads at all. */
    public static Optional<String> locate(String... fileNames) {
        for (String name : fileNames) {
            for (Path dir : searchDirectories()) {
                Path candidate = dir.resolve(name);
                if (Files.exists(candidate) && loads(candidate.toString())) {
                    return Optional.of(candidate.toString());
                }
            }
            if (loads(name)) {
                return Optional.of(name);
            }
        }
        return Optional.empty();
    }

    private static boolean loads(String nameOrPath) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(nameOrPath, arena);
            return true;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return false;
        }
    }

    /** A one-line summary for {@code tessera info}. */
    public static String describe() {
        Optional<String> driver = locate("libcuda.so.1", "libcuda.so");
        if (driver.isEmpty()) {
            return "not found (no libcuda.so.1 on this machine; the CUDA backend is unavailable)";
        }
        Optional<String> nvrtc = locate("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so");
        Optional<String> cublas = locate("libcublas.so.13", "libcublas.so.12", "libcublas.so");
        return "driver " + driver.get() + ", nvrtc " + nvrtc.orElse("missing") + ", cublas " + cublas.orElse("missing");
    }
}
