package dev.tessera.tensor;

/**
 * Per-thread GEMM scratch: packing buffers (grown on demand, never shrunk), the edge-tile buffer
 * and the reusable job objects, so a steady stream of GEMM calls allocates nothing.
 *
 * <p>The packed B block and the job belong to the calling thread; the packed A block belongs to
 * whichever thread runs a chunk, so workers never share a write buffer.
 */
final class GemmWorkspace {
    private static final ThreadLocal<GemmWorkspace> LOCAL = ThreadLocal.withInitial(GemmWorkspace::new);

    private float[] fa = new float[0];
    private float[] fb = new float[0];
    private double[] da = new double[0];
    private double[] db = new double[0];
    final float[] ftile = new float[GemmKernels.F_MR * GemmKernels.F_NR];
    final double[] dtile = new double[GemmKernels.D_MR * GemmKernels.D_NR];
    final GemmBlocked.FloatJob floatJob = new GemmBlocked.FloatJob();
    final GemmBlocked.DoubleJob doubleJob = new GemmBlocked.DoubleJob();

    static GemmWorkspace get() {
        return LOCAL.get();
    }

    float[] floatA(int n) {
        if (fa.length < n) {
            fa = new float[n];
        }
        return fa;
    }

    float[] floatB(int n) {
        if (fb.length < n) {
            fb = new float[n];
        }
        return fb;
    }

    double[] doubleA(int n) {
        if (da.length < n) {
            da = new double[n];
        }
        return da;
    }

    double[] doubleB(int n) {
        if (db.length < n) {
            db = new double[n];
        }
        return db;
    }
}
