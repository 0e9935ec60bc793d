package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibrariesTest {
    /** "Loads" any existing file; bare names (the system loader) load only if listed. */
    private static Predicate<String> loader(String... systemNames) {
        List<String> sys = List.of(systemNames);
        return p -> p.contains("/") ? Files.exists(Path.of(p)) : sys.contains(p);
    }

    @Test
    void searchOrderIsPropertyThenCudaHomeThenStandardPaths(@TempDir Path tmp) {
        List<Path> dirs = CudaLibraries.searchDirectories(tmp.resolve("override").toString(), tmp.resolve("cuda").toString());
        assertEquals(List.of(tmp.resolve("override"), tmp.resolve("cuda").resolve("lib64"), Path.of("/usr/local/cuda/lib64"),
                Path.of("/usr/lib/x86_64-linux-gnu")), dirs);
        assertEquals(List.of(Path.of("/usr/local/cuda/lib64"), Path.of("/usr/lib/x86_64-linux-gnu")),
                CudaLibraries.searchDirectories(null, " "));
    }

    @Test
    void propertyDirectoryWinsOverCudaHome(@TempDir Path tmp) throws Exception {
        Path override = Files.createDirectories(tmp.resolve("override"));
        Path home = Files.createDirectories(tmp.resolve("cuda/lib64"));
        Files.writeString(override.resolve("libcuda.so.1"), "fake");
        Files.writeString(home.resolve("libcuda.so.1"), "fake");
        List<Path> dirs = CudaLibraries.searchDirectories(override.toString(), tmp.resolve("cuda").toString());
        assertEquals(Optional.of(override.resolve("libcuda.so.1").toString()),
                CudaLibraries.locate(dirs, loader(), CudaLibraries.DRIVER));
    }

    @Test
    void cudaHomeUsedWhenNoOverride(@TempDir Path tmp) throws Exception {
        Path home = Files.createDirectories(tmp.resolve("cuda/lib64"));
        Files.writeString(home.resolve("libnvrtc.so.12"), "fake");
        List<Path> dirs = List.of(tmp.resolve("missing"), home);
        assertEquals(Optional.of(home.resolve("libnvrtc.so.12").toString()),
                CudaLibraries.locate(dirs, loader(), CudaLibraries.NVRTC));
    }

    @Test
    void newerSonameIsPreferredAndSystemLoaderIsLast(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("lib"));
        Files.writeString(dir.resolve("libcublas.so.12"), "fake");
        // libcublas.so.13 loads from the system path: it is tried (name by name) before .so.12 in dirs
        assertEquals(Optional.of("libcublas.so.13"), CudaLibraries.locate(List.of(dir), loader("libcublas.so.13"),
                CudaLibraries.CUBLAS));
        assertEquals(Optional.of(dir.resolve("libcublas.so.12").toString()),
                CudaLibraries.locate(List.of(dir), loader(), CudaLibraries.CUBLAS));
    }

    @Test
    void aFileThatDoesNotLoadIsSkipped(@TempDir Path tmp) throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(a.resolve("libcuda.so.1"), "not an ELF file");
        Files.writeString(b.resolve("libcuda.so.1"), "fake");
        Predicate<String> loads = p -> p.startsWith(b.toString());
        assertEquals(Optional.of(b.resolve("libcuda.so.1").toString()), CudaLibraries.locate(List.of(a, b), loads, "libcuda.so.1"));
    }

    @Test
    void nothingFoundIsEmpty(@TempDir Path tmp) {
        assertTrue(CudaLibraries.locate(List.of(tmp), loader(), CudaLibraries.DRIVER).isEmpty());
    }

    /** NVRTC dlopens its builtins by soname: the ones beside the resolved libnvrtc of the same major are preloaded. */
    @Test
    void companionsAreTheSameMajorBesideTheResolvedLibrary(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("lib64"));
        Path nvrtc = Files.writeString(dir.resolve("libnvrtc.so.13"), "fake");
        Path real = Files.writeString(dir.resolve("libnvrtc-builtins.so.13.0.48"), "fake");
        Files.createSymbolicLink(dir.resolve("libnvrtc-builtins.so.13.0"), real.getFileName());
        Files.writeString(dir.resolve("libnvrtc-builtins.so.12.6"), "fake"); // another major
        Files.writeString(dir.resolve("libnvrtc-builtins.so.130"), "fake"); // not major 13
        Files.writeString(dir.resolve("libnvrtc.so.13.0.48"), "fake");
        assertEquals(List.of(real.toRealPath()), CudaLibraries.companions(nvrtc.toString(), CudaLibraries.NVRTC_BUILTINS));
        Path blas = Files.writeString(dir.resolve("libcublas.so.13"), "fake");
        Path lt = Files.writeString(dir.resolve("libcublasLt.so.13"), "fake");
        Files.writeString(dir.resolve("libcublasLt.so.12"), "fake");
        assertEquals(List.of(lt.toRealPath()), CudaLibraries.companions(blas.toString(), CudaLibraries.CUBLAS_LT));
    }

    @Test
    void unversionedLibraryTakesEveryCompanionAndBareNamesNone(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("lib"));
        Path nvrtc = Files.writeString(dir.resolve("libnvrtc.so"), "fake");
        Path b12 = Files.writeString(dir.resolve("libnvrtc-builtins.so.12.6"), "fake");
        Path b13 = Files.writeString(dir.resolve("libnvrtc-builtins.so.13.0"), "fake");
        assertEquals(List.of(b13.toRealPath(), b12.toRealPath()), CudaLibraries.companions(nvrtc.toString(),
                CudaLibraries.NVRTC_BUILTINS), "newest first");
        assertEquals(List.of(), CudaLibraries.companions("libnvrtc.so.13", CudaLibraries.NVRTC_BUILTINS),
                "a library found by the system loader has no directory to look in");
        assertEquals(List.of(), CudaLibraries.companions(tmp.resolve("missing/libnvrtc.so.13").toString(),
                CudaLibraries.NVRTC_BUILTINS));
    }

    @Test
    void olderDriverThanNvrtcIsOneLine() {
        String w = CudaLibraries.versionWarning(12060, 13, 0).orElseThrow();
        assertEquals("cuda: the driver supports CUDA 12.6 but NVRTC is 13.0; compiled kernels may fail to load"
                + " (update the NVIDIA driver or put an NVRTC <= 12.6 first, e.g. -Dtessera.cuda.lib)", w);
        assertTrue(CudaLibraries.versionWarning(12080, 12, 6).isEmpty());
        assertTrue(CudaLibraries.versionWarning(13000, 13, 0).isEmpty());
        assertTrue(CudaLibraries.versionWarning(13010, 13, 0).isEmpty());
        assertTrue(CudaLibraries.versionWarning(13000, 13, 1).isPresent());
    }
}
