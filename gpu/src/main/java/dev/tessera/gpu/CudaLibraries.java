package dev.tessera.gpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    /** NVRTC dlopens {@code libnvrtc-builtins.so.MAJOR.MINOR} by name at its first compile. */
    static final String NVRTC_BUILTINS = "libnvrtc-builtins";
    /** cuBLAS needs {@code libcublasLt.so.MAJOR} (a DT_NEEDED entry, resolved by the loader path). */
    static final String CUBLAS_LT = "libcublasLt";

    private CudaLibraries() {}

    /**
     * The companion libraries of the library resolved at {@code resolved}: files named
     * {@code stem.so.MAJOR[.x...]} in the same directory, where MAJOR is the resolved library's
     * major version (every version when it has none), newest first, one entry per real file. Loading
     * them by path first makes a later dlopen by soname find them already loaded, so a CUDA directory
     * missing from {@code LD_LIBRARY_PATH} does not fail NVRTC's first compile
     * ({@code NVRTC_ERROR_BUILTIN_OPERATION_FAILURE}) or cuBLAS's load. A bare name (found by the
     * system loader) has no directory, and the loader path already covers its companions.
     */
    static List<Path> companions(String resolved, String stem) {
        Path lib = Path.of(resolved);
        Path dir = lib.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        int[] own = soVersion(lib.getFileName().toString());
        String prefix = stem + ".so.";
        Map<Path, int[]> found = new HashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path f : files) {
                int[] v = soVersion(f.getFileName().toString());
                if (v.length > 0 && (own.length == 0 || v[0] == own[0])) {
                    found.merge(f.toRealPath(), v, (x, y) -> Arrays.compare(x, y) >= 0 ? x : y);
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return found.entrySet().stream().sorted(Map.Entry.<Path, int[]>comparingByValue(Arrays::compare).reversed())
                .map(Map.Entry::getKey).toList();
    }

    /** The numeric version after ".so." ({@code libx.so.13.0.48} is {13, 0, 48}); empty when absent or not numeric. */
    static int[] soVersion(String fileName) {
        int at = fileName.indexOf(".so.");
        if (at < 0) {
            return new int[0];
        }
        String[] parts = fileName.substring(at + 4).split("\\.");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty() || !parts[i].chars().allMatch(Character::isDigit) || parts[i].length() > 9) {
                return new int[0];
            }
            v[i] = Integer.parseInt(parts[i]);
        }
        return v;
    }

    /**
     * Loads each companion of {@code resolved} (see {@link #companions}); one that fails to load is
     * left to the library's own lookup.
     */
    static void preloadCompanions(String resolved, String stem) {
        for (Path p : companions(resolved, stem)) {
            try {
                SymbolLookup.libraryLookup(p, Arena.global());
            } catch (IllegalArgumentException | IllegalCallerException e) {
                // not loadable here: NVRTC/cuBLAS then report their own error naming the library
            }
        }
    }

    /**
     * One line when the driver ({@code cuDriverGetVersion}: 1000*major + 10*minor) is older than
     * NVRTC: cubins from a newer NVRTC need a driver at least as new (within a major version the
     * minor-version compatibility covers it only for features the driver knows), so the first module
     * load may fail with CUDA_ERROR_UNSUPPORTED_PTX_VERSION. Empty when the driver is as new or newer.
     */
    static Optional<String> versionWarning(int driverVersion, int nvrtcMajor, int nvrtcMinor) {
        int dMajor = driverVersion / 1000, dMinor = (driverVersion % 1000) / 10;
        if (dMajor > nvrtcMajor || (dMajor == nvrtcMajor && dMinor >= nvrtcMinor)) {
            return Optional.empty();
        }
        return Optional.of("cuda: the driver supports CUDA " + dMajor + "." + dMinor + " but NVRTC is " + nvrtcMajor + "."
                + nvrtcMinor + "; compiled kernels may fail to load (update the NVIDIA driver or put an NVRTC <= " + dMajor + "."
                + dMinor + " first, e.g. -Dtessera.cuda.lib)");
    }

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

    /** Like {@link #locate(String...)}, preloading each candidate's {@code stem} companions before trying it. */
    public static Optional<String> locateWithCompanions(String stem, String... fileNames) {
        return locate(searchDirectories(), p -> {
            preloadCompanions(p, stem);
            return loads(p);
        }, fileNames);
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
        Optional<String> cublas = locateWithCompanions(CUBLAS_LT, CUBLAS);
        return "driver " + driver.get() + ", nvrtc " + nvrtc.orElse("missing") + ", cublas " + cublas.orElse("missing");
    }
}
