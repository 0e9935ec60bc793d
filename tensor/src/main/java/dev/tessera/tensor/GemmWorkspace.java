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

    /** Which A block {@code fa} holds: the job, its run, row block and depth block; see {@link #holdsFloatA}. */
    private Object packedJob;
    private long packedRun;
    private int packedBlock;
    private int packedDepth;

    float[] floatA(int n) {
        if (fa.length < n) {
            fa = new float[n];
            packedJob = null;
        }
        return fa;
    }

    /**
     * Whether {@code fa} already holds this A block: the chunks of one row block at different column
     * groups share it, and a thread that takes consecutive chunks then packs it once.
     */
    boolean holdsFloatA(Object job, long run, int block, int depth) {
        return packedJob == job && packedRun == run && packedBlock == block && packedDepth == depth;
    }

    void packedFloatA(Object job, long run, int block, int depth) {
        packedJob = job;
        packedRun = run;
        packedBlock = block;
        packedDepth = depth;
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
