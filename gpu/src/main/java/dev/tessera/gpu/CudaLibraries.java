package dev.tessera.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Finds the CUDA libraries the backend binds through the FFM API: the driver ({@code libcuda.so.1}),
 * NVRTC and cuBLAS. Search order: the {@code tessera.cuda.lib} property (a directory), then
 * {@code CUDA_HOME/lib64}, {@code /usr/local/cuda/lib64}, {@code /usr/lib/x86_64-linux-gnu}, then the
 * system loader path (the bare file name). The order is a pure function of the property, the
 * environment and a "does it load" predicate so it can be tested with temporary directories.
 */
public final class CudaLibraries {
    /** File names tried for each library, newest first. */
    static final String[] DRIVER = {"libcuda.so.1", "libcuda.so"};
    static final String[] NVRTC = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"};
    static final String[] CUBLAS = {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"};

    private CudaLibraries() {}

    /** Directories searched before the system loader path, from this process's property and environment. */
    static List<Path> searchDirectories() {
        return searchDirectories(System.getProperty("tessera.cuda.lib"), System.getenv("CUDA_HOME"));
    }

    /** Directories searched before the system loader path, given the override and CUDA_HOME (either may be null). */
    static List<Path> searchDirectories(String override, String cudaHome) {
        List<Path> dirs = new ArrayList<>();
        if (override != null && !override.isBlank()) {
            dirs.add(Path.of(override));
        }
        if (cudaHome != null && !cudaHome.isBlank()) {
            dirs.add(Path.of(cudaHome, "lib64"));
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        return dirs;
    }

    /** Where the library named {@code fileName} would load from, if it loads at all. */
    public static Optional<String> locate(String... fileNames) {
        return locate(searchDirectories(), CudaLibraries::loads, fileNames);
    }

    /**
     * The first candidate that {@code loads} accepts: for each file name in order, each directory
     * in order (only files that exist), then the bare name for the system loader.
     */
    static Optional<String> locate(List<Path> dirs, Predicate<String> loads, String... fileNames) {
        for (String name : fileNames) {
            for (Path dir : dirs) {
                Path candidate = dir.resolve(name);
                if (Files.exists(candidate) && loads.test(candidate.toString())) {
                    return Optional.of(candidate.toString());
                }
            }
            if (loads.test(name)) {
                return Optional.of(name);
            }
        }
        return Optional.empty();
    }

    static boolean loads(String nameOrPath) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(nameOrPath, arena);
            return true;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return false;
        }
    }

    /** A one-line summary for {@code tessera info}. */
    public static String describe() {
        Optional<String> driver = locate(DRIVER);
        if (driver.isEmpty()) {
            return "not found (no libcuda.so.1 on this machine; the CUDA backend is unavailable)";
        }
        Optional<String> nvrtc = locate(NVRTC);
        Optional<String> cublas = locate(CUBLAS);
        return "driver " + driver.get() + ", nvrtc " + nvrtc.orElse("missing") + ", cublas " + cublas.orElse("missing");
    }
}
