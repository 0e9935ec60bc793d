package dev.tessera.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packs strided operand blocks into the micro-panel layout the GEMM kernels read.
 *
 * <p>A block (rows {@code i0..i0+mc}, columns {@code p0..p0+kc}) becomes {@code ceil(mc/mr)}
 * micro-panels of {@code mr * kc} values: panel {@code q}, element {@code (r, p)} at {@code q*mr*kc
 * + p*mr + r}. A B block (rows {@code p0..p0+kc}, columns {@code j0..j0+nc}) becomes {@code
 * ceil(nc/nr)} micro-panels of {@code kc * nr} values: element {@code (p, j)} at {@code q*nr*kc +
 * p*nr + j}. Rows/columns past the matrix edge are zero, so edge tiles run the full kernel.
 *
 * <p>The unit-stride cases (row-major and transposed operands) have their own loops; any other
 * stride takes the general loop. Half-precision sources are widened to float while packing.
 */
final class GemmPacking {
    /** Floats per 64-byte cache line. */
    private static final int LINE_FLOATS = 16;
    /**
     * A vector of exactly one A micro-panel row group (mr floats), when mr is 4 or 8: transposed A is
     * then packed one vector per column and panel instead of mr scalar moves.
     */
    private static final VectorSpecies<Float> PANEL_ROWS = switch (GemmKernels.F_MR) {
        case 4 -> FloatVector.SPECIES_128;
        case 8 -> FloatVector.SPECIES_256;
        default -> null;
    };

    private GemmPacking() {}

    // ---------------------------------------------------------------- float

    static void packA(float[] a, int aOff, int rs, int cs, int i0, int mc, int p0, int kc, float[] dst, int mr) {
        if (rs == 1 && cs != 1) {
            packATransposed(a, aOff, cs, i0, mc, p0, kc, dst, mr);
            return;
        }
        int d = 0;
        for (int ir = 0; ir < mc; ir += mr, d += mr * kc) {
            int rows = Math.min(mr, mc - ir);
            int base = aOff + (i0 + ir) * rs + p0 * cs;
            if (cs == 1 && rows == mr) {
                // row-major A: each row is contiguous along p
                for (int r = 0; r < mr; r++) {
                    int src = base + r * rs;
                    int o = d + r;
                    for (int p = 0; p < kc; p++, o += mr) {
                        dst[o] = a[src + p];
                    }
                }
            } else {
                for (int p = 0, o = d; p < kc; p++, o += mr) {
                    int src = base + p * cs;
                    int r = 0;
                    for (; r < rows; r++) {
                        dst[o + r] = a[src + r * rs];
                    }
                    for (; r < mr; r++) {
                        dst[o + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Transposed A (unit row stride): column p of the block is contiguous over all mc rows. Take
     * {@code LINE_FLOATS} columns at a time and fill each micro-panel's part for all of them before
     * the next panel: the panels lie mr·kc floats apart (4 KiB at kc = 256), so writing one column
     * across every panel would put each store in the same few L1 sets and evict every line before
     * it is full.
     */
    private static void packATransposed(float[] a, int aOff, int cs, int i0, int mc, int p0, int kc, float[] dst,
            int mr) {
        int full = mc / mr * mr;
        int panelSize = mr * kc;
        boolean vectorRows = PANEL_ROWS != null && mr == PANEL_ROWS.length();
        for (int line = 0; line < kc; line += LINE_FLOATS) {
            int lineEnd = Math.min(kc, line + LINE_FLOATS);
            int i = 0;
            for (int d = 0; i < full; i += mr, d += panelSize) {
                for (int p = line, o = d + line * mr, src = aOff + i0 + i + (p0 + line) * cs; p < lineEnd;
                        p++, o += mr, src += cs) {
                    if (vectorRows) {
                        FloatVector.fromArray(PANEL_ROWS, a, src).intoArray(dst, o);
                    } else {
                        for (int r = 0; r < mr; r++) {
                            dst[o + r] = a[src + r];
                        }
                    }
                }
            }
            if (i < mc) {
                int rows = mc - i;
                for (int p = line, o = full / mr * panelSize + line * mr, src = aOff + i0 + i + (p0 + line) * cs;
                        p < lineEnd; p++, o += mr, src += cs) {
                    int r = 0;
                    for (; r < rows; r++) {
                        dst[o + r] = a[src + r];
                    }
                    for (; r < mr; r++) {
                        dst[o + r] = 0f;
                    }
                }
            }
        }
    }

    /** Rows of B per step of {@link #packRowMajorPanels}: eight rows of a 768-column B are 24 KiB, inside L1. */
    private static final int PACK_B_ROWS = 8;

    static void packB(float[] b, int bOff, int rs, int cs, int p0, int kc, int j0, int nc, float[] dst, int nr,
            int panelFrom, int panelTo) {
        int q = panelFrom;
        if (cs == 1 && nr % GemmKernels.FL == 0) {
            int fullTo = Math.min(panelTo, nc / nr);
            packRowMajorPanels(b, bOff + p0 * rs + j0, rs, kc, dst, nr, q, fullTo);
            q = Math.max(q, fullTo);
        }
        for (; q < panelTo; q++) {
            int jr = q * nr;
            int d = q * nr * kc;
            int cols = Math.min(nr, nc - jr);
            int base = bOff + p0 * rs + (j0 + jr) * cs;
            if (rs == 1 && cols == nr) {
                // transposed B: each column is contiguous along p. Walk p in cache-line steps and
                // take all nr columns per step: whole columns at a time would keep nr streams a
                // column stride apart in flight, and strides that are multiples of 4 KiB map them
                // to the same L1 sets.
                for (int line = 0; line < kc; line += LINE_FLOATS) {
                    int lineEnd = Math.min(kc, line + LINE_FLOATS);
                    for (int j = 0; j < nr; j++) {
                        int src = base + j * cs;
                        for (int p = line, o = d + line * nr + j; p < lineEnd; p++, o += nr) {
                            dst[o] = b[src + p];
                        }
                    }
                }
            } else {
                for (int p = 0, o = d; p < kc; p++, o += nr) {
                    int src = base + p * rs;
                    int j = 0;
                    for (; j < cols; j++) {
                        dst[o + j] = b[src + j * cs];
                    }
                    for (; j < nr; j++) {
                        dst[o + j] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Full panels [from, to) of a row-major B (nr contiguous values per k step), PACK_B_ROWS rows at
     * a time across all of them: panel by panel, each panel's slice of a row is one cache line and
     * the row's other lines are evicted before the next panel wants them (rows lie n floats apart),
     * so every line came from L2 twice or more. Weight-gradient products (TN, k = 2048) measured
     * 9-10% faster (median per-call GFLOP/s, in-JVM interleaved, 1 thread: 256x256x2048 38.8 to
     * 42.3, 256x768x2048 45.3 to 50.1); NN shapes unchanged.
     */
    private static void packRowMajorPanels(float[] b, int base, int rs, int kc, float[] dst, int nr, int from, int to) {
        final int l = GemmKernels.FL;
        for (int p0 = 0; p0 < kc; p0 += PACK_B_ROWS) {
            int p1 = Math.min(kc, p0 + PACK_B_ROWS);
            for (int q = from; q < to; q++) {
                for (int p = p0, o = q * nr * kc + p0 * nr, src = base + q * nr + p0 * rs; p < p1; p++, o += nr, src += rs) {
                    for (int v = 0; v < nr; v += l) {
                        FloatVector.fromArray(GemmKernels.FS, b, src + v).intoArray(dst, o + v);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- double

    static void packA(double[] a, int aOff, int rs, int cs, int i0, int mc, int p0, int kc, double[] dst, int mr) {
        int d = 0;
        for (int ir = 0; ir < mc; ir += mr, d += mr * kc) {
            int rows = Math.min(mr, mc - ir);
            int base = aOff + (i0 + ir) * rs + p0 * cs;
            if (cs == 1 && rows == mr) {
                for (int r = 0; r < mr; r++) {
                    int src = base + r * rs;
                    int o = d + r;
                    for (int p = 0; p < kc; p++, o += mr) {
                        dst[o] = a[src + p];
                    }
                }
            } else {
                for (int p = 0, o = d; p < kc; p++, o += mr) {
                    int src = base + p * cs;
                    int r = 0;
                    for (; r < rows; r++) {
                        dst[o + r] = a[src + r * rs];
                    }
                    for (; r < mr; r++) {
                        dst[o + r] = 0d;
                    }
                }
            }
        }
    }

    static void packB(double[] b, int bOff, int rs, int cs, int p0, int kc, int j0, int nc, double[] dst, int nr,
            int panelFrom, int panelTo) {
        final int l = GemmKernels.DL;
        for (int q = panelFrom; q < panelTo; q++) {
            int jr = q * nr;
            int d = q * nr * kc;
            int cols = Math.min(nr, nc - jr);
            int base = bOff + p0 * rs + (j0 + jr) * cs;
            if (cs == 1 && cols == nr && nr % l == 0) {
                for (int p = 0, o = d; p < kc; p++, o += nr) {
                    int src = base + p * rs;
                    for (int v = 0; v < nr; v += l) {
                        DoubleVector.fromArray(GemmKernels.DS, b, src + v).intoArray(dst, o + v);
                    }
                }
            } else if (rs == 1 && cols == nr) {
                for (int j = 0; j < nr; j++) {
                    int src = base + j * cs;
                    for (int p = 0, o = d + j; p < kc; p++, o += nr) {
                        dst[o] = b[src + p];
                    }
                }
            } else {
                for (int p = 0, o = d; p < kc; p++, o += nr) {
                    int src = base + p * rs;
                    int j = 0;
                    for (; j < cols; j++) {
                        dst[o + j] = b[src + j * cs];
                    }
                    for (; j < nr; j++) {
                        dst[o + j] = 0d;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- half (bf16 / fp16 bits)

    static float half(boolean bf16, short bits) {
        return bf16 ? Float.intBitsToFloat(bits << 16) : Float.float16ToFloat(bits);
    }

    static void packA(boolean bf16, short[] a, int aOff, int rs, int cs, int i0, int mc, int p0, int kc, float[] dst,
            int mr) {
        int d = 0;
        for (int ir = 0; ir < mc; ir += mr, d += mr * kc) {
            int rows = Math.min(mr, mc - ir);
            int base = aOff + (i0 + ir) * rs + p0 * cs;
            if (cs == 1 && rows == mr) {
                for (int r = 0; r < mr; r++) {
                    int src = base + r * rs;
                    int o = d + r;
                    if (bf16) {
                        for (int p = 0; p < kc; p++, o += mr) {
                            dst[o] = Float.intBitsToFloat(a[src + p] << 16);
                        }
                    } else {
                        for (int p = 0; p < kc; p++, o += mr) {
                            dst[o] = Float.float16ToFloat(a[src + p]);
                        }
                    }
                }
            } else {
                for (int p = 0, o = d; p < kc; p++, o += mr) {
                    int src = base + p * cs;
                    int r = 0;
                    for (; r < rows; r++) {
                        dst[o + r] = half(bf16, a[src + r * rs]);
                    }
                    for (; r < mr; r++) {
                        dst[o + r] = 0f;
                    }
                }
            }
        }
    }

    static void packB(boolean bf16, short[] b, int bOff, int rs, int cs, int p0, int kc, int j0, int nc, float[] dst,
            int nr, int panelFrom, int panelTo) {
        for (int q = panelFrom; q < panelTo; q++) {
            int jr = q * nr;
            int d = q * nr * kc;
            int cols = Math.min(nr, nc - jr);
            int base = bOff + p0 * rs + (j0 + jr) * cs;
            if (cs == 1 && cols == nr) {
                for (int p = 0, o = d; p < kc; p++, o += nr) {
                    int src = base + p * rs;
                    if (bf16) {
                        for (int j = 0; j < nr; j++) {
                            dst[o + j] = Float.intBitsToFloat(b[src + j] << 16);
                        }
                    } else {
                        for (int j = 0; j < nr; j++) {
                            dst[o + j] = Float.float16ToFloat(b[src + j]);
                        }
                    }
                }
            } else {
                for (int p = 0, o = d; p < kc; p++, o += nr) {
                    int src = base + p * rs;
                    int j = 0;
                    for (; j < cols; j++) {
                        dst[o + j] = half(bf16, b[src + j * cs]);
                    }
                    for (; j < nr; j++) {
                        dst[o + j] = 0f;
                    }
                }
            }
        }
    }
}
