package dev.tessera.tensor;

import java.util.Arrays;

/**
 * Kernels behind {@link Indexing#sort}, {@link Indexing#topk} and {@link Indexing#multinomial}.
 *
 * <p>Sorting maps every value to an integer key whose signed order is the wanted order (floats:
 * IEEE bits with the negative half flipped, {@code -0.0} folded into {@code 0.0}, every NaN to the
 * canonical NaN, which lands above +inf; descending: the bitwise complement). Values whose key fits
 * in 32 bits (F32, BF16, F16, I32, BOOL) are packed as {@code key << 32 | position} into one long
 * and sorted with {@link Arrays#sort(long[])}: the position breaks ties, so the primitive sort is
 * stable and fast. F64 and I64 keys need all 64 bits and go through a stable merge sort of
 * positions.
 */
final class Sorting {
    private Sorting() {}

    /**
     * The positions of the first {@code k} elements of each line along {@code d} in stable sorted
     * order, as an I64 tensor shaped like {@code x} with {@code size(d) = k}.
     */
    static Tensor sortIndices(Tensor x, int d, boolean descending, int k) {
        int last = x.rank() - 1;
        DType dt = x.dtype();
        boolean wide = dt == DType.F64 || dt == DType.I64;
        DType read = switch (dt) {
            case F32, BF16, F16 -> DType.F32;
            case F64 -> DType.F64;
            case I32, I64, BOOL -> DType.I64;
        };
        Tensor moved = Ops.materialize(x.transpose(d, last), read).contiguous();
        int n = moved.shape()[last];
        int[] outShape = moved.shape();
        outShape[last] = k;
        Tensor out = Tensor.zeros(DType.I64, outShape);
        int lines = n == 0 ? 0 : moved.numel() / n;
        if (lines > 0 && k > 0) {
            Object a = moved.storage().array();
            int base = moved.offset();
            long[] o = out.storage().longs();
            int perChunk = Math.max(1, StridedLoop.GRAIN / n);
            boolean select = (long) k * 4 < n;
            Parallel.forEachRange(lines, perChunk, (c, from, to) -> {
                long[] keys = new long[n];
                int[] perm = new int[select ? k : n];
                int[] tmp = new int[select ? k : n];
                for (int line = from; line < to; line++) {
                    int at = base + line * n;
                    for (int i = 0; i < n; i++) {
                        if (wide) {
                            long key = a instanceof double[] v ? key64(v[at + i]) : ((long[]) a)[at + i];
                            keys[i] = descending ? ~key : key;
                        } else {
                            int key = a instanceof float[] v ? key32(v[at + i]) : (int) ((long[]) a)[at + i];
                            keys[i] = (long) (descending ? ~key : key) << 32 | i;
                        }
                    }
                    if (select) {
                        smallestK(keys, n, k, perm, tmp);
                    } else if (wide) {
                        for (int i = 0; i < n; i++) {
                            perm[i] = i;
                        }
                        mergeSort(perm, tmp, keys, n);
                    } else {
                        Arrays.sort(keys);
                    }
                    for (int j = 0; j < k; j++) {
                        o[line * k + j] = select || wide ? perm[j] : (int) keys[j];
                    }
                }
            });
        }
        return out.transpose(d, last).contiguous();
    }

    /** A 32-bit key whose signed order is float order, with -0 == 0 and NaN above +inf. */
    static int key32(float v) {
        int b = Float.floatToIntBits(v == 0 ? 0f : v);
        return b ^ ((b >> 31) & 0x7fffffff);
    }

    /** The 64-bit twin of {@link #key32}. */
    static long key64(double v) {
        long b = Double.doubleToLongBits(v == 0 ? 0d : v);
        return b ^ ((b >> 63) & Long.MAX_VALUE);
    }

    /** Stable bottom-up merge sort of {@code perm[0, n)} by {@code keys[perm[i]]}; insertion sort on runs of 16. */
    static void mergeSort(int[] perm, int[] tmp, long[] keys, int n) {
        final int run = 16;
        for (int lo = 0; lo < n; lo += run) {
            int hi = Math.min(n, lo + run);
            for (int i = lo + 1; i < hi; i++) {
                int p = perm[i];
                long kp = keys[p];
                int j = i - 1;
                while (j >= lo && keys[perm[j]] > kp) {
                    perm[j + 1] = perm[j];
                    j--;
                }
                perm[j + 1] = p;
            }
        }
        int[] src = perm;
        int[] dst = tmp;
        for (int width = run; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(n, lo + width);
                int hi = Math.min(n, lo + 2 * width);
                int i = lo;
                int j = mid;
                int o = lo;
                while (i < mid && j < hi) {
                    dst[o++] = keys[src[j]] < keys[src[i]] ? src[j++] : src[i++];
                }
                while (i < mid) {
                    dst[o++] = src[i++];
                }
                while (j < hi) {
                    dst[o++] = src[j++];
                }
            }
            int[] swap = src;
            src = dst;
            dst = swap;
        }
        if (src != perm) {
            System.arraycopy(src, 0, perm, 0, n);
        }
    }

    /**
     * The positions of the {@code k} smallest {@code (keys[p], p)} pairs in increasing order, into
     * {@code out[0, k)}: a max-heap of size k keeps the best so far (O(n log k), for k much below n),
     * then the survivors are ordered by position and stably by key, so ties keep the lower position first.
     */
    static void smallestK(long[] keys, int n, int k, int[] out, int[] tmp) {
        if (k == 0) {
            return;
        }
        int size = 0;
        for (int p = 0; p < n; p++) {
            if (size < k) {
                int i = size++;
                out[i] = p;
                while (i > 0 && after(out[i], out[(i - 1) / 2], keys)) { // sift up
                    int parent = (i - 1) / 2;
                    int t = out[i];
                    out[i] = out[parent];
                    out[parent] = t;
                    i = parent;
                }
            } else if (after(out[0], p, keys)) {
                out[0] = p;
                int i = 0;
                while (true) { // sift down
                    int l = 2 * i + 1;
                    if (l >= k) {
                        break;
                    }
                    int big = l + 1 < k && after(out[l + 1], out[l], keys) ? l + 1 : l;
                    if (!after(out[big], out[i], keys)) {
                        break;
                    }
                    int t = out[i];
                    out[i] = out[big];
                    out[big] = t;
                    i = big;
                }
            }
        }
        Arrays.sort(out, 0, k);
        mergeSort(out, tmp, keys, k);
    }

    /** Whether position a orders after position b: larger key, or equal key and larger position. */
    private static boolean after(int a, int b, long[] keys) {
        return keys[a] > keys[b] || keys[a] == keys[b] && a > b;
    }

    /** Inverse-CDF draws: the first category whose running sum exceeds {@code u * total}. */
    static void sampleWithReplacement(double[] w, int at, int n, Generator g, long[] out, int outAt, int count) {
        double[] cdf = new double[n];
        double total = 0;
        int lastPositive = 0;
        for (int c = 0; c < n; c++) {
            total += w[at + c];
            cdf[c] = total;
            if (w[at + c] > 0) {
                lastPositive = c;
            }
        }
        for (int s = 0; s < count; s++) {
            double u = g.nextDouble() * total;
            // first c with cdf[c] > u: a zero-weight category has cdf[c] == cdf[c-1], so it is never first
            int lo = 0;
            int hi = n;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cdf[mid] > u) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            out[outAt + s] = lo < n ? lo : lastPositive; // lo == n only if u rounded up to total
        }
    }

    /** Exponential race: the {@code count} largest keys {@code w[c] / E[c]}, largest first; zero weights never win. */
    static void sampleWithoutReplacement(double[] w, int at, int n, Generator g, long[] out, int outAt, int count) {
        long[] keys = new long[n];
        boolean select = (long) count * 4 < n;
        int[] perm = new int[select ? count : n];
        int[] tmp = new int[select ? count : n];
        for (int c = 0; c < n; c++) {
            double e = -Math.log(1.0 - g.nextDouble()); // in [0, inf): 1 - u lies in (0, 1]
            double key = w[at + c] > 0 ? w[at + c] / e : -1; // e == 0 gives +inf, still a valid winner
            keys[c] = ~key64(key);
        }
        if (select) {
            smallestK(keys, n, count, perm, tmp);
        } else {
            for (int c = 0; c < n; c++) {
                perm[c] = c;
            }
            mergeSort(perm, tmp, keys, n);
        }
        for (int s = 0; s < count; s++) {
            out[outAt + s] = perm[s];
        }
    }
}
