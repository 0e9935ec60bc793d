package dev.tessera.gpu;

/**
 * A failed CUDA driver, NVRTC or cuBLAS call. Every non-zero status becomes one of these so a
 * failure names the call that failed and the library's own name for the error, instead of
 * surfacing later as wrong numbers.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Which library produced the status code. */
    public enum Api { DRIVER, NVRTC, CUBLAS }

    private final Api api;
    private final String call;
    private final int status;

    public CudaException(Api api, String call, int status, String errorName, String detail) {
        super(message(call, status, errorName, detail));
        this.api = api;
        this.call = call;
        this.status = status;
    }

    static String message(String call, int status, String errorName, String detail) {
        StringBuilder sb = new StringBuilder("cuda: ").append(call).append(" failed: ").append(errorName)
                .append(" (").append(status).append(')');
        if (detail != null && !detail.isBlank()) {
            sb.append(": ").append(detail.strip());
        }
        return sb.toString();
    }

    public Api api() {
        return api;
    }

    /** The native function that failed, e.g. {@code cuMemAlloc_v2}. */
    public String call() {
        return call;
    }

    public int status() {
        return status;
    }
}
