package dev.tessera.gpu;

import java.util.Optional;

/**
 * Whether this JVM can use the CUDA backend, and if not, why, in one line. Checked once: driver
 * library present, {@code cuInit} succeeds, at least one device, NVRTC and cuBLAS present. Used by
 * {@code tessera info} and by the {@code @RequiresCuda} test condition.
 */
public final class GpuSupport {
    private static volatile String reason;

    private GpuSupport() {}

    public static boolean available() {
        return unavailableReason().isEmpty();
    }

    /** Empty when CUDA is usable, else why not. */
    public static Optional<String> unavailableReason() {
        String r = reason;
        if (r == null) {
            r = probe();
            reason = r;
        }
        return r.isEmpty() ? Optional.empty() : Optional.of(r);
    }

    /** Prints whether CUDA is usable (used by run-gpu-tests.sh); exit status 0 if so, 1 if not. */
    public static void main(String[] args) {
        Optional<String> r = unavailableReason();
        System.out.println(r.map(x -> "CUDA not available: " + x).orElse("CUDA available: " + CudaLibraries.describe()));
        if (r.isEmpty()) {
            System.out.println(versions());
        }
        System.exit(r.isPresent() ? 1 : 0);
    }

    /** Driver and NVRTC versions in one line, plus the warning line when the driver is the older. */
    static String versions() {
        try {
            CudaDriver d = CudaDriver.load(CudaLibraries.locate(CudaLibraries.DRIVER).orElseThrow());
            int dv = d.driverVersion();
            String lib = CudaLibraries.locate(CudaLibraries.NVRTC).orElseThrow();
            CudaLibraries.preloadCompanions(lib, CudaLibraries.NVRTC_BUILTINS);
            int[] nv = Nvrtc.load(lib).version();
            String line = "driver CUDA " + dv / 1000 + "." + (dv % 1000) / 10 + ", NVRTC " + nv[0] + "." + nv[1];
            return CudaLibraries.versionWarning(dv, nv[0], nv[1]).map(w -> line + "\n" + w).orElse(line);
        } catch (RuntimeException | LinkageError e) {
            return "versions unavailable: " + e;
        }
    }

    private static String probe() {
        Optional<String> lib = CudaLibraries.locate(CudaLibraries.DRIVER);
        if (lib.isEmpty()) {
            return "libcuda.so.1 not found (no NVIDIA driver)";
        }
        try {
            CudaDriver d = CudaDriver.load(lib.get());
            d.init();
            if (d.deviceCount() == 0) {
                return "the driver reports no CUDA devices";
            }
        } catch (CudaException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "the CUDA driver failed to load: " + e;
        }
        if (CudaLibraries.locate(CudaLibraries.NVRTC).isEmpty()) {
            return "libnvrtc not found (kernels cannot be compiled)";
        }
        if (CudaLibraries.locateWithCompanions(CudaLibraries.CUBLAS_LT, CudaLibraries.CUBLAS).isEmpty()) {
            return "libcublas not found";
        }
        return "";
    }
}
