package dev.tessera.tensor;

import java.util.function.IntConsumer;

/**
 * The BLIS-style blocked GEMM driver (SIMD path).
 *
 * <p>Loop nest: {@code jc} over column blocks of NC, {@code pc} over depth blocks of KC (pack B
 * once into NR-column micro-panels, shared by all threads), then chunks over C: row blocks of MC
 * (each chunk packs its own A block into MR-row micro-panels in its thread's buffer), optionally
 * split into column groups when there are few row blocks; inside a chunk {@code jr} over B
 * micro-panels and {@code ir} over A micro-panels call the micro-kernel.
 *
 * <p>Determinism: every block size and the chunk layout depend only on (m, n, k), and each C
 * element is always the same FMA chain per depth block followed by {@code C += block} in
 * increasing {@code pc} order; threads only decide who computes a tile, never how. So results are
 * bitwise identical for any thread count.
 */
final class GemmBlocked {
    /**
     * Depth block: one B micro-panel (KC x NR) stays in L1 while A streams from L2. By default the
     * micro-panel is 16 KiB, half of a 32 KiB L1: KC = 256 for 4x16 floats or 4x8 doubles (AVX2),
     * 128 with 16-lane vectors. A 32 KiB panel (KC = 512) was tried on Zen3 AVX2 and is not better:
     * an in-JVM per-call A/B favoured it by 4-10% on most shapes, six interleaved JVM runs of
     * {@code GemmTiming shapes=... calls=40|60} favoured 256 by 5-11% on the training step's shapes
     * (README, issue 15). {@code -Dtessera.gemm.kc} overrides it.
     */
    static final int KC_OVERRIDE = Integer.getInteger("tessera.gemm.kc", 0);
    private static final int PANEL_BYTES = 16384;
    /** Row block: the packed A block (MC x KC) lives in L2 (512 KiB on Zen3). */
    static final int MC = Integer.getInteger("tessera.gemm.mc", 144);
    /** Column block: the packed B block (KC x NC) lives in L3. */
    static final int NC = Integer.getInteger("tessera.gemm.nc", 4096);
    /** Problems with m*n*k below this run inline on the calling thread. */
    static final long PARALLEL_MIN_WORK = Long.getLong("tessera.gemm.parallelMin", 1L << 21);
    /** Largest packed B (elements) for whole-depth mode: 8 MB of floats. */
    private static final long WHOLE_DEPTH_MAX_ELEMENTS = Boolean.parseBoolean(System.getProperty("tessera.gemm.wholeDepth", "true")) ? 1L << 21 : 0;
    /** B micro-panels packed per B-packing chunk: 8 splits a 256-column B (16 panels) between two threads. */
    private static final int PACK_B_PANELS = 8;
    /** Aim for at least this many C chunks per (jc, pc) step. */
    private static final int TARGET_CHUNKS = 8;

    private GemmBlocked() {}

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Block length for splitting {@code total} into equal blocks of at most {@code max}, multiple of {@code unit}. */
    static int balanced(int total, int max, int unit) {
        int cap = Math.max(unit, max / unit * unit);
        int blocks = ceilDiv(total, cap);
        int len = ceilDiv(total, blocks);
        return Math.min(cap, ceilDiv(len, unit) * unit);
    }

    /**
     * Row block length: at most MC, blocks of equal size, and (when there is more than one) a block
     * count that is a multiple of 4 so 2 or 4 threads get equal shares. Depends on m only.
     */
    static int rowBlock(int m, int mr) {
        int cap = Math.max(mr, MC / mr * mr);
        int blocks = ceilDiv(m, cap);
        if (blocks > 1) {
            blocks = ceilDiv(blocks, 4) * 4;
        }
        return Math.max(mr, ceilDiv(ceilDiv(m, blocks), mr) * mr);
    }

    /** Source kinds of the float job. */
    static final int F32 = 0;
    static final int BF16 = 1;
    static final int FP16 = 2;

    static void sgemm(int kind, int m, int n, int k, float[] af, short[] ah, int aOff, int ars, int acs,
            float[] bf, short[] bh, int bOff, int brs, int bcs, float[] c, int cOff, int ldc, boolean accumulate) {
        GemmWorkspace ws = GemmWorkspace.get();
        FloatJob job = ws.floatJob;
        job.kind = kind;
        job.af = af;
        job.ah = ah;
        job.aOff = aOff;
        job.ars = ars;
        job.acs = acs;
        job.bf = bf;
        job.bh = bh;
        job.bOff = bOff;
        job.brs = brs;
        job.bcs = bcs;
        job.c = c;
        job.cOff = cOff;
        job.ldc = ldc;
        job.m = m;
        try {
            job.run(ws, n, k, accumulate);
        } finally {
            job.af = null;
            job.ah = null;
            job.bf = null;
            job.bh = null;
            job.c = null;
            job.bp = null;
        }
    }

    static void dgemm(int m, int n, int k, double[] a, int aOff, int ars, int acs, double[] b, int bOff, int brs,
            int bcs, double[] c, int cOff, int ldc, boolean accumulate) {
        GemmWorkspace ws = GemmWorkspace.get();
        DoubleJob job = ws.doubleJob;
        job.a = a;
        job.aOff = aOff;
        job.ars = ars;
        job.acs = acs;
        job.b = b;
        job.bOff = bOff;
        job.brs = brs;
        job.bcs = bcs;
        job.c = c;
        job.cOff = cOff;
        job.ldc = ldc;
        job.m = m;
        try {
            job.run(ws, n, k, accumulate);
        } finally {
            job.a = null;
            job.b = null;
            job.c = null;
            job.bp = null;
        }
    }

    /** Shared chunk bookkeeping of one (jc, pc) step. */
    abstract static class Job implements IntConsumer {
        int m;
        int aOff, ars, acs, bOff, brs, bcs, cOff, ldc;
        int jc, nc, pc, kc, mcBlock, mBlocks, nGroups, panelsPerGroup, nPanels;
        int k, kcBlock;
        boolean add, accumulate;
        boolean packingB;
        /** Whole-depth mode: B is packed for all of k at once and each C chunk walks every depth block itself. */
        boolean wholeDepth;

        abstract int mr();

        abstract int nr();

        abstract int elementBytes();

        abstract void allocB(GemmWorkspace ws, int size);

        abstract void packBPanels(int from, int to);

        /**
         * C chunk (row block ib, column group) += A block · B block for depth [pc, pc+kc). B panel q's
         * rows for this block start at {@code q·nr·panelDepth + depthOffset·nr}.
         */
        abstract void computeChunk(int ib, int group, int pc, int kc, int panelDepth, int depthOffset, boolean add);

        /** Counts this job's runs, so a packed A block is known to belong to the current product. */
        long runs;

        final void run(GemmWorkspace ws, int n, int k, boolean accumulate) {
            runs++;
            final int mr = mr();
            final int nr = nr();
            boolean parallel = Parallel.threads() > 1 && (long) m * n * k >= PARALLEL_MIN_WORK;
            int kcBlock = balanced(k, KC_OVERRIDE > 0 ? KC_OVERRIDE : PANEL_BYTES / (elementBytes() * nr), 1);
            int ncBlock = balanced(n, NC, nr);
            mcBlock = rowBlock(m, mr);
            mBlocks = ceilDiv(m, mcBlock);
            this.k = k;
            this.kcBlock = kcBlock;
            this.accumulate = accumulate;
            // Small C, long k (weight gradients: k = batch·time): one fork for packing all of B and one
            // for computing, instead of two per depth block. Same kernel calls in the same order, so
            // the same bits.
            long wholeB = (long) k * ceilDiv(ncBlock, nr) * nr;
            wholeDepth = parallel && k > kcBlock && wholeB <= WHOLE_DEPTH_MAX_ELEMENTS;
            allocB(ws, (int) (wholeDepth ? wholeB : (long) kcBlock * ceilDiv(ncBlock, nr) * nr));
            try {
                for (jc = 0; jc < n; jc += ncBlock) {
                    nc = Math.min(ncBlock, n - jc);
                    nPanels = ceilDiv(nc, nr);
                    // whole-depth chunks repack their A block at every depth step, once per column group:
                    // fewer groups there (four chunks still keep two or four threads busy)
                    int want = ceilDiv(wholeDepth ? TARGET_CHUNKS / 2 : TARGET_CHUNKS, mBlocks);
                    nGroups = Math.max(1, Math.min(want, nPanels / 4));
                    panelsPerGroup = ceilDiv(nPanels, nGroups);
                    nGroups = ceilDiv(nPanels, panelsPerGroup);
                    int bChunks = ceilDiv(nPanels, PACK_B_PANELS);
                    int cChunks = mBlocks * nGroups;
                    if (wholeDepth) {
                        pc = 0;
                        kc = k;
                        packingB = true;
                        Parallel.forEachChunk(bChunks, this);
                        packingB = false;
                        Parallel.forEachChunk(cChunks, this);
                        continue;
                    }
                    for (pc = 0; pc < k; pc += kcBlock) {
                        kc = Math.min(kcBlock, k - pc);
                        add = accumulate || pc > 0;
                        if (parallel) {
                            packingB = true;
                            Parallel.forEachChunk(bChunks, this);
                            packingB = false;
                            Parallel.forEachChunk(cChunks, this);
                        } else {
                            packBPanels(0, nPanels);
                            for (int ch = 0; ch < cChunks; ch++) {
                                computeChunk(ch / nGroups, ch % nGroups, pc, kc, kc, 0, add);
                            }
                        }
                    }
                }
            } finally {
                wholeDepth = false;
                packingB = false;
            }
        }

        @Override
        public final void accept(int chunk) {
            if (packingB) {
                int from = chunk * PACK_B_PANELS;
                packBPanels(from, Math.min(nPanels, from + PACK_B_PANELS));
            } else if (wholeDepth) {
                for (int p = 0; p < k; p += kcBlock) {
                    computeChunk(chunk / nGroups, chunk % nGroups, p, Math.min(kcBlock, k - p), k, p, accumulate || p > 0);
                }
            } else {
                computeChunk(chunk / nGroups, chunk % nGroups, pc, kc, kc, 0, add);
            }
        }
    }

    static final class FloatJob extends Job {
        int kind;
        float[] af, bf, c, bp;
        short[] ah, bh;

        @Override
        int mr() {
            return GemmKernels.F_MR;
        }

        @Override
        int nr() {
            return GemmKernels.F_NR;
        }

        @Override
        int elementBytes() {
            return Float.BYTES;
        }

        @Override
        void allocB(GemmWorkspace ws, int size) {
            bp = ws.floatB(size);
        }

        @Override
        void packBPanels(int from, int to) {
            if (kind == F32) {
                GemmPacking.packB(bf, bOff, brs, bcs, pc, kc, jc, nc, bp, GemmKernels.F_NR, from, to);
            } else {
                GemmPacking.packB(kind == BF16, bh, bOff, brs, bcs, pc, kc, jc, nc, bp, GemmKernels.F_NR, from, to);
            }
        }

        @Override
        void computeChunk(int ib, int group, int pc, int kc, int panelDepth, int depthOffset, boolean add) {
            final int mr = GemmKernels.F_MR;
            final int nr = GemmKernels.F_NR;
            int ic = ib * mcBlock;
            int mc = Math.min(mcBlock, m - ic);
            GemmWorkspace ws = GemmWorkspace.get();
            float[] ap = ws.floatA(ceilDiv(mc, mr) * mr * kc);
            if (!ws.holdsFloatA(this, runs, ib, pc)) {
                if (kind == F32) {
                    GemmPacking.packA(af, aOff, ars, acs, ic, mc, pc, kc, ap, mr);
                } else {
                    GemmPacking.packA(kind == BF16, ah, aOff, ars, acs, ic, mc, pc, kc, ap, mr);
                }
                ws.packedFloatA(this, runs, ib, pc);
            }
            float[] tile = ws.ftile;
            float[] bp = this.bp;
            float[] c = this.c;
            int ldc = this.ldc;
            int q0 = group * panelsPerGroup;
            int q1 = Math.min(nPanels, q0 + panelsPerGroup);
            for (int q = q0; q < q1; q++) {
                int jr = q * nr;
                int ncols = Math.min(nr, nc - jr);
                int bi = q * nr * panelDepth + depthOffset * nr;
                for (int ir = 0, ai = 0; ir < mc; ir += mr, ai += mr * kc) {
                    int nrows = Math.min(mr, mc - ir);
                    int ci = cOff + (ic + ir) * ldc + jc + jr;
                    if (nrows == mr && ncols == nr) {
                        GemmKernels.sKernel(kc, ap, ai, bp, bi, c, ci, ldc, add);
                    } else {
                        GemmKernels.sKernel(kc, ap, ai, bp, bi, tile, 0, nr, false);
                        for (int r = 0; r < nrows; r++) {
                            int o = ci + r * ldc;
                            int t = r * nr;
                            if (add) {
                                for (int j = 0; j < ncols; j++) {
                                    c[o + j] += tile[t + j];
                                }
                            } else {
                                System.arraycopy(tile, t, c, o, ncols);
                            }
                        }
                    }
                }
            }
        }
    }

    static final class DoubleJob extends Job {
        double[] a, b, c, bp;

        @Override
        int mr() {
            return GemmKernels.D_MR;
        }

        @Override
        int nr() {
            return GemmKernels.D_NR;
        }

        @Override
        int elementBytes() {
            return Double.BYTES;
        }

        @Override
        void allocB(GemmWorkspace ws, int size) {
            bp = ws.doubleB(size);
        }

        @Override
        void packBPanels(int from, int to) {
            GemmPacking.packB(b, bOff, brs, bcs, pc, kc, jc, nc, bp, GemmKernels.D_NR, from, to);
        }

        @Override
        void computeChunk(int ib, int group, int pc, int kc, int panelDepth, int depthOffset, boolean add) {
            final int mr = GemmKernels.D_MR;
            final int nr = GemmKernels.D_NR;
            int ic = ib * mcBlock;
            int mc = Math.min(mcBlock, m - ic);
            GemmWorkspace ws = GemmWorkspace.get();
            double[] ap = ws.doubleA(ceilDiv(mc, mr) * mr * kc);
            GemmPacking.packA(a, aOff, ars, acs, ic, mc, pc, kc, ap, mr);
            double[] tile = ws.dtile;
            double[] bp = this.bp;
            double[] c = this.c;
            int ldc = this.ldc;
            int q0 = group * panelsPerGroup;
            int q1 = Math.min(nPanels, q0 + panelsPerGroup);
            for (int q = q0; q < q1; q++) {
                int jr = q * nr;
                int ncols = Math.min(nr, nc - jr);
                int bi = q * nr * panelDepth + depthOffset * nr;
                for (int ir = 0, ai = 0; ir < mc; ir += mr, ai += mr * kc) {
                    int nrows = Math.min(mr, mc - ir);
                    int ci = cOff + (ic + ir) * ldc + jc + jr;
                    if (nrows == mr && ncols == nr) {
                        GemmKernels.d4x2(kc, ap, ai, bp, bi, c, ci, ldc, add);
                    } else {
                        GemmKernels.d4x2(kc, ap, ai, bp, bi, tile, 0, nr, false);
                        for (int r = 0; r < nrows; r++) {
                            int o = ci + r * ldc;
                            int t = r * nr;
                            if (add) {
                                for (int j = 0; j < ncols; j++) {
                                    c[o + j] += tile[t + j];
                                }
                            } else {
                                System.arraycopy(tile, t, c, o, ncols);
                            }
                        }
                    }
                }
            }
        }
    }
}
