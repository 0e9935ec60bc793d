package dev.tessera.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked GEMM micro-kernels.
 *
 * <p>Each kernel computes one {@code MR x NR} tile of {@code A_panel * B_panel} over {@code kc}
 * steps from zero accumulators, then writes it to {@code c} ({@code add == false}: store; {@code
 * add == true}: {@code c += tile}). The packed A micro-panel holds {@code MR} values per k step,
 * the packed B micro-panel {@code NR} values per k step. Every accumulator is a plain local so
 * that C2 keeps it in a register; tiles with more than about 10 accumulators spill on AVX2 and are
 * not offered. Float tiles are named {@code rows x vectors}: with 8 lanes {@code 4x2} is 4x16.
 *
 * <p>Each tile element is one fused multiply-add chain over {@code p = 0..kc-1} starting from
 * zero, whether the tile is a full one written to C or an edge tile written to a scratch tile and
 * merged by the caller, so edge handling never changes results.
 */
final class GemmKernels {
    /** {@link Simd}'s species, so {@code -Dtessera.simd=128|256|512} runs these kernels at that width too. */
    static final VectorSpecies<Float> FS = Simd.F32;
    static final VectorSpecies<Double> DS = Simd.F64;
    static final int FL = FS.length();
    static final int DL = DS.length();

    /**
     * Float tile shape: {@code tessera.gemm.tile}, "RxV" (rows x vectors); default 6x2 with 16-lane
     * vectors (AVX-512 has 32 registers: 12 accumulators fit), 4x2 otherwise.
     */
    static final int F_MR;
    static final int F_NV;
    static final int F_NR;
    /** Double tile: 4 rows x 2 vectors. */
    static final int D_MR = 4;
    static final int D_NR = 2 * DL;

    static {
        String tile = System.getProperty("tessera.gemm.tile", FL >= 16 ? "6x2" : "4x2");
        int mr;
        int nv;
        switch (tile) {
            case "4x2" -> { mr = 4; nv = 2; }
            case "5x2" -> { mr = 5; nv = 2; }
            case "6x2" -> { mr = 6; nv = 2; }
            case "3x3" -> { mr = 3; nv = 3; }
            case "2x4" -> { mr = 2; nv = 4; }
            default -> throw new IllegalArgumentException("tessera.gemm.tile: unknown tile " + tile
                    + " (expected 4x2, 5x2, 6x2, 3x3 or 2x4)");
        }
        F_MR = mr;
        F_NV = nv;
        F_NR = nv * FL;
    }

    private GemmKernels() {}

    /** Dispatches to the configured float kernel (the switch folds: F_MR/F_NV are constants). */
    static void sKernel(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        if (F_NV == 2) {
            switch (F_MR) {
                case 4 -> s4x2(kc, a, ai, b, bi, c, ci, ldc, add);
                case 5 -> s5x2(kc, a, ai, b, bi, c, ci, ldc, add);
                default -> s6x2(kc, a, ai, b, bi, c, ci, ldc, add);
            }
        } else if (F_NV == 3) {
            s3x3(kc, a, ai, b, bi, c, ci, ldc, add);
        } else {
            s2x4(kc, a, ai, b, bi, c, ci, ldc, add);
        }
    }

    /*
     * c += v loads c first and adds v to it: the loaded vector's exact class is known to C2, the
     * accumulator's (a loop phi) not always. When it was not and the add branch had no type profile
     * yet, C2 compiled v.add(...) as a virtual call that boxes both vectors on every tile (seen with
     * -XX:+PrintInlining in one of ten tiny training runs, which allocated 598 MB a step instead of
     * 524). Addition commutes exactly, so the bits are the same. Other accumulator loops that start
     * from a zero vector (softmax's row sums, VectorMath and Reductions) add the same way round.
     */
    private static void put(FloatVector v, float[] c, int ci, boolean add) {
        if (add) {
            v = FloatVector.fromArray(FS, c, ci).add(v);
        }
        v.intoArray(c, ci);
    }

    private static void put(DoubleVector v, double[] c, int ci, boolean add) {
        if (add) {
            v = DoubleVector.fromArray(DS, c, ci).add(v);
        }
        v.intoArray(c, ci);
    }

    static void s4x2(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        final int l = FL;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(FS, b, bi);
            FloatVector b1 = FloatVector.fromArray(FS, b, bi + l);
            FloatVector x = FloatVector.broadcast(FS, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(FS, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(FS, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(FS, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            ai += 4;
            bi += 2 * l;
        }
        put(c00, c, ci, add);
        put(c01, c, ci + l, add);
        ci += ldc;
        put(c10, c, ci, add);
        put(c11, c, ci + l, add);
        ci += ldc;
        put(c20, c, ci, add);
        put(c21, c, ci + l, add);
        ci += ldc;
        put(c30, c, ci, add);
        put(c31, c, ci + l, add);
    }

    static void s5x2(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        final int l = FL;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(FS, b, bi);
            FloatVector b1 = FloatVector.fromArray(FS, b, bi + l);
            FloatVector x = FloatVector.broadcast(FS, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(FS, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(FS, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(FS, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(FS, a[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            ai += 5;
            bi += 2 * l;
        }
        put(c00, c, ci, add);
        put(c01, c, ci + l, add);
        ci += ldc;
        put(c10, c, ci, add);
        put(c11, c, ci + l, add);
        ci += ldc;
        put(c20, c, ci, add);
        put(c21, c, ci + l, add);
        ci += ldc;
        put(c30, c, ci, add);
        put(c31, c, ci + l, add);
        ci += ldc;
        put(c40, c, ci, add);
        put(c41, c, ci + l, add);
    }

    /** For 32-register targets (AVX-512); spills on AVX2. */
    static void s6x2(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        final int l = FL;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(FS, b, bi);
            FloatVector b1 = FloatVector.fromArray(FS, b, bi + l);
            FloatVector x = FloatVector.broadcast(FS, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(FS, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(FS, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(FS, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(FS, a[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(FS, a[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            ai += 6;
            bi += 2 * l;
        }
        put(c00, c, ci, add);
        put(c01, c, ci + l, add);
        ci += ldc;
        put(c10, c, ci, add);
        put(c11, c, ci + l, add);
        ci += ldc;
        put(c20, c, ci, add);
        put(c21, c, ci + l, add);
        ci += ldc;
        put(c30, c, ci, add);
        put(c31, c, ci + l, add);
        ci += ldc;
        put(c40, c, ci, add);
        put(c41, c, ci + l, add);
        ci += ldc;
        put(c50, c, ci, add);
        put(c51, c, ci + l, add);
    }

    static void s3x3(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        final int l = FL;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(FS, b, bi);
            FloatVector b1 = FloatVector.fromArray(FS, b, bi + l);
            FloatVector b2 = FloatVector.fromArray(FS, b, bi + 2 * l);
            FloatVector x = FloatVector.broadcast(FS, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(FS, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(FS, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            c22 = x.fma(b2, c22);
            ai += 3;
            bi += 3 * l;
        }
        put(c00, c, ci, add);
        put(c01, c, ci + l, add);
        put(c02, c, ci + 2 * l, add);
        ci += ldc;
        put(c10, c, ci, add);
        put(c11, c, ci + l, add);
        put(c12, c, ci + 2 * l, add);
        ci += ldc;
        put(c20, c, ci, add);
        put(c21, c, ci + l, add);
        put(c22, c, ci + 2 * l, add);
    }

    static void s2x4(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        final int l = FL;
        FloatVector z = FloatVector.zero(FS);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(FS, b, bi);
            FloatVector b1 = FloatVector.fromArray(FS, b, bi + l);
            FloatVector b2 = FloatVector.fromArray(FS, b, bi + 2 * l);
            FloatVector b3 = FloatVector.fromArray(FS, b, bi + 3 * l);
            FloatVector x = FloatVector.broadcast(FS, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(FS, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            c13 = x.fma(b3, c13);
            ai += 2;
            bi += 4 * l;
        }
        put(c00, c, ci, add);
        put(c01, c, ci + l, add);
        put(c02, c, ci + 2 * l, add);
        put(c03, c, ci + 3 * l, add);
        ci += ldc;
        put(c10, c, ci, add);
        put(c11, c, ci + l, add);
        put(c12, c, ci + 2 * l, add);
        put(c13, c, ci + 3 * l, add);
    }

    /** Double kernel: 4 rows x 2 vectors (4x8 with AVX2). */
    static void d4x2(int kc, double[] a, int ai, double[] b, int bi, double[] c, int ci, int ldc, boolean add) {
        final int l = DL;
        DoubleVector z = DoubleVector.zero(DS);
        DoubleVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        for (int p = 0; p < kc; p++) {
            DoubleVector b0 = DoubleVector.fromArray(DS, b, bi);
            DoubleVector b1 = DoubleVector.fromArray(DS, b, bi + l);
            DoubleVector x = DoubleVector.broadcast(DS, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(DS, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(DS, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(DS, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            ai += 4;
            bi += 2 * l;
        }
        put(c00, c, ci, add);
        put(c01, c, ci + l, add);
        ci += ldc;
        put(c10, c, ci, add);
        put(c11, c, ci + l, add);
        ci += ldc;
        put(c20, c, ci, add);
        put(c21, c, ci + l, add);
        ci += ldc;
        put(c30, c, ci, add);
        put(c31, c, ci + l, add);
    }
}
