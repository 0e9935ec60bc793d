package dev.tessera.tensor;

/**
 * Walks up to three strided operands over a common shape, row by row, in fixed chunks.
 *
 * <p>Dims of size 1 are dropped and adjacent dims that are contiguous for every operand are
 * merged, so a contiguous tensor of any rank becomes one long row and the kernels' unit-stride fast
 * paths apply. Chunks hold {@link #GRAIN} elements whatever the thread count.
 */
final class StridedLoop {
    static final int GRAIN = 1 << 15;

    /** One run of {@code length} elements; operand k starts at {@code offsetK} and steps by its inner stride. */
    interface Row {
        void run(int offset0, int offset1, int offset2, int offset3, int length);
    }

    final int[] shape;
    final int[][] strides;
    final int[] offsets;
    final long numel;

    StridedLoop(int[] shape, int[][] strides, int[] offsets) {
        int rank = shape.length;
        int ops = strides.length;
        int[] s = new int[Math.max(rank, 1)];
        int[][] st = new int[ops][Math.max(rank, 1)];
        int r = 0;
        long n = 1;
        for (int d = 0; d < rank; d++) {
            n *= shape[d];
            if (shape[d] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = st[k][r - 1] == strides[k][d] * shape[d];
            }
            if (merge) {
                s[r - 1] *= shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][r - 1] = strides[k][d];
                }
            } else {
                s[r] = shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][r] = strides[k][d];
                }
                r++;
            }
        }
        if (r == 0) {
            s[0] = 1;
            r = 1;
        }
        this.shape = java.util.Arrays.copyOf(s, r);
        this.strides = new int[ops][];
        for (int k = 0; k < ops; k++) {
            this.strides[k] = java.util.Arrays.copyOf(st[k], r);
        }
        this.offsets = offsets.clone();
        this.numel = n;
    }

    int innerStride(int operand) {
        return strides[operand][shape.length - 1];
    }

    /** Runs every row, in parallel chunks when the tensor is large. */
    void forEachRow(Row row) {
        if (numel == 0) {
            return;
        }
        int chunks = Parallel.chunkCount(numel, GRAIN);
        if (chunks == 1) {
            runRange(0, numel, row);
        } else {
            Parallel.forEachChunk(chunks, c -> runRange((long) c * GRAIN, Math.min(numel, (long) (c + 1) * GRAIN), row));
        }
    }

    private void runRange(long start, long end, Row row) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int[] index = new int[rank];
        long rest = start;
        for (int d = rank - 1; d >= 0; d--) {
            index[d] = (int) (rest % shape[d]);
            rest /= shape[d];
        }
        int ops = strides.length;
        long pos = start;
        while (pos < end) {
            int len = (int) Math.min(inner - index[rank - 1], end - pos);
            int o0 = offsetOf(0, index);
            int o1 = ops > 1 ? offsetOf(1, index) : 0;
            int o2 = ops > 2 ? offsetOf(2, index) : 0;
            int o3 = ops > 3 ? offsetOf(3, index) : 0;
            row.run(o0, o1, o2, o3, len);
            pos += len;
            index[rank - 1] += len;
            for (int d = rank - 1; d > 0 && index[d] == shape[d]; d--) {
                index[d] = 0;
                index[d - 1]++;
            }
        }
    }

    private int offsetOf(int operand, int[] index) {
        int[] st = strides[operand];
        int o = offsets[operand];
        for (int d = 0; d < index.length; d++) {
            o += index[d] * st[d];
        }
        return o;
    }
}
