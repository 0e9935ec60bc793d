package dev.tessera.gpu;

/**
 * Grid and block sizes for one kernel launch. The factory methods encode the two launch shapes the
 * kernels use (one thread per element, one block per row) so the arithmetic is tested on the CPU.
 */
public record LaunchConfig(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {
    /** CUDA's limit on gridDim.x. */
    static final long MAX_GRID_X = (1L << 31) - 1;
    /** CUDA's limit on gridDim.y and gridDim.z. */
    static final int MAX_GRID_YZ = 65535;

    public LaunchConfig {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1 || sharedBytes < 0) {
            throw new IllegalArgumentException("LaunchConfig: grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX
                    + "x" + blockY + "x" + blockZ + ", shared " + sharedBytes + " must all be positive");
        }
        if (gridY > MAX_GRID_YZ || gridZ > MAX_GRID_YZ || (long) blockX * blockY * blockZ > 1024) {
            throw new IllegalArgumentException("LaunchConfig: grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX
                    + "x" + blockY + "x" + blockZ + " exceeds CUDA's limits");
        }
    }

    /**
     * One thread per element with {@code threads} per block; kernels use a grid-stride loop, so the
     * grid is capped (at 65535 * 32 blocks) without losing elements.
     */
    public static LaunchConfig elementwise(long n, int threads) {
        long blocks = Math.max(1, (n + threads - 1) / threads);
        blocks = Math.min(blocks, 65535L * 32);
        return new LaunchConfig((int) blocks, 1, 1, threads, 1, 1, 0);
    }

    /** One block of {@code threads} per row (rows along x), with {@code sharedBytes} of dynamic shared memory. */
    public static LaunchConfig perRow(long rows, int threads, int sharedBytes) {
        if (rows > MAX_GRID_X) {
            throw new IllegalArgumentException("LaunchConfig.perRow: " + rows + " rows exceed the grid limit");
        }
        return new LaunchConfig((int) Math.max(1, rows), 1, 1, threads, 1, 1, sharedBytes);
    }

    /** Threads per block for a row kernel: the next power of two covering {@code cols}/4, in [32, 1024]. */
    public static int rowThreads(long cols) {
        long t = 32;
        while (t < 1024 && t * 4 < cols) {
            t <<= 1;
        }
        return (int) t;
    }

    /** Threads per block of the attention kernels (TS_ATT_THREADS in attention.cu). */
    static final int ATTENTION_THREADS = 256;
    /** Columns of a row each attention thread keeps in registers (TS_ATT_COLS). */
    static final int ATTENTION_COLS = 16;
    /** The largest head dimension the attention kernels take (TS_ATT_MAXD: shared tiles are sized for it). */
    static final int ATTENTION_MAX_D = 128;

    /**
     * Threads that share one attention row: the smallest power of two with {@code lanes * 16 >= d},
     * so each thread holds at most 16 columns in registers (1 for d ≤ 16, up to 8 for d ≤ 128).
     */
    public static int attentionLanes(long d) {
        if (d < 1 || d > ATTENTION_MAX_D) {
            throw new IllegalArgumentException("LaunchConfig.attentionLanes: head dim " + d + " outside 1.." + ATTENTION_MAX_D);
        }
        int lanes = 1;
        while ((long) lanes * ATTENTION_COLS < d) {
            lanes <<= 1;
        }
        return lanes;
    }

    /**
     * One block of {@link #ATTENTION_THREADS} per (batch*head, tile of {@code 256 / lanes} rows), the
     * blocks of one head consecutive along x (the kernels split blockIdx.x the same way).
     */
    public static LaunchConfig attention(long heads, long rows, int lanes) {
        long perBlock = ATTENTION_THREADS / lanes;
        long blocks = heads * Math.ceilDiv(rows, perBlock);
        if (blocks < 1 || blocks > MAX_GRID_X) {
            throw new IllegalArgumentException("LaunchConfig.attention: " + heads + " heads x " + rows + " rows give " + blocks
                    + " blocks (need 1.." + MAX_GRID_X + ")");
        }
        return new LaunchConfig((int) blocks, 1, 1, ATTENTION_THREADS, 1, 1, 0);
    }

    /** Threads per block of the sum-of-squares kernels (TS_SQ_THREADS in grad_norm.cu). */
    static final int SUM_SQUARES_THREADS = 256;

    /**
     * Blocks of the sum-of-squares first pass for n elements: one per 256 elements up to 1024, a
     * function of n alone so the summation order, and so the result, is the same on every device.
     */
    static int sumSquaresBlocks(long n) {
        return (int) Math.max(1, Math.min(1024, (n + SUM_SQUARES_THREADS - 1) / SUM_SQUARES_THREADS));
    }
}
