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
}
