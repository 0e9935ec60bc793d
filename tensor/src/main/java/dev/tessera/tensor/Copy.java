package dev.tessera.tensor;

import java.util.Arrays;

/** Strided copies with dtype conversion, fill and concatenation. */
final class Copy {
    private Copy() {}

    /** dst[...] = convert(src[...]); shapes must already match. */
    static void copy(Tensor src, Tensor dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("copy: shape " + Shapes.str(src.shape()) + " into " + Shapes.str(dst.shape()));
        }
        Storage in = src.storage();
        Storage out = dst.storage();
        StridedLoop loop = new StridedLoop(dst.shape(), new int[][] {dst.strides(), src.strides()}, new int[] {dst.offset(), src.offset()});
        int so = loop.innerStride(0);
        int si = loop.innerStride(1);
        Object from = in.array();
        Object to = out.array();
        if (from != null && to != null && in.dtype() == out.dtype()) {
            loop.forEachRow((oo, io, u1, u2, n) -> {
                if (so == 1 && si == 1) {
                    System.arraycopy(from, io, to, oo, n);
                } else {
                    sameTypeStrided(from, io, si, to, oo, so, n);
                }
            });
            return;
        }
        if (in.dtype() == out.dtype() && in.dtype() != DType.BOOL && (from == null) != (to == null) && so == 1 && si == 1) {
            segmentRows(in, out, loop);
            return;
        }
        if (convertFast(from, to, loop, so, si) || convertHalf(from, in.dtype(), to, out.dtype(), loop, so, si)) {
            return;
        }
        loop.forEachRow((oo, io, u1, u2, n) -> {
            for (int i = 0; i < n; i++) {
                element(in, io + i * si, out, oo + i * so);
            }
        });
    }

    /**
     * out[o] = in[i] converted: integers go through {@link Storage#setLong} (exact, or rounded once to
     * nearest even: a long rounded through double would round twice), BOOL takes nonzero as 1, and
     * everything else goes through double (exact for every float type, rounded once on store).
     */
    static void element(Storage in, int i, Storage out, int o) {
        if (out.dtype() == DType.BOOL) {
            out.setDouble(o, in.getDouble(i) != 0 ? 1 : 0);
        } else if (!in.dtype().isFloating()) {
            out.setLong(o, in.getLong(i));
        } else {
            out.setDouble(o, in.getDouble(i));
        }
    }

    /**
     * Unit-stride rows between segment storage (mapped or off-heap, little-endian) and a heap array
     * of the same dtype, as bulk copies: bit-exact (NaN payloads included) and without per-element
     * dispatch, which is what materialising mapped weights for a kernel costs. BOOL takes the
     * element loop, which also normalises a file's nonzero bytes to 1.
     */
    private static void segmentRows(Storage in, Storage out, StridedLoop loop) {
        java.lang.foreign.ValueLayout layout = in.elementLayout();
        long size = in.dtype().byteSize();
        Object from = in.array();
        Object to = out.array();
        java.lang.foreign.MemorySegment seg = from == null ? in.segment() : out.segment();
        loop.forEachRow((oo, io, u1, u2, n) -> {
            if (from == null) {
                java.lang.foreign.MemorySegment.copy(seg, layout, io * size, to, oo, n);
            } else {
                java.lang.foreign.MemorySegment.copy(from, io, seg, layout, oo * size, n);
            }
        });
    }

    /** The conversions training does all the time (masks to floats, F32 ↔ F64, indices), without per-element dispatch. */
    private static boolean convertFast(Object from, Object to, StridedLoop loop, int so, int si) {
        switch (from) {
            case byte[] a when to instanceof float[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; });
            case float[] a when to instanceof double[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; });
            case double[] a when to instanceof float[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = (float) a[io + i * si]; });
            case long[] a when to instanceof float[] b -> // (float) of a long rounds once, to nearest even
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; });
            case long[] a when to instanceof double[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; });
            case int[] a when to instanceof long[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; });
            case long[] a when to instanceof int[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = (int) a[io + i * si]; });
            case float[] a when to instanceof byte[] b ->
                    loop.forEachRow((oo, io, u1, u2, n) -> { for (int i = 0; i < n; i++) b[oo + i * so] = (byte) (a[io + i * si] != 0 ? 1 : 0); });
            case null, default -> {
                return false;
            }
        }
        return true;
    }

    /**
     * F32 to and from BF16/F16 heap arrays without the per-element double round trip (autocast casts
     * every matmul input this way): the same bits as {@link #element}, which rounds the exact float
     * value once, to nearest even.
     */
    private static boolean convertHalf(Object from, DType fromType, Object to, DType toType, StridedLoop loop, int so, int si) {
        if (from instanceof float[] a && to instanceof short[] b) {
            boolean bf16 = toType == DType.BF16;
            loop.forEachRow((oo, io, u1, u2, n) -> {
                for (int i = 0; i < n; i++) {
                    float v = a[io + i * si];
                    b[oo + i * so] = bf16 ? HalfFloats.floatToBf16(v) : HalfFloats.floatToF16(v);
                }
            });
            return true;
        }
        if (from instanceof short[] a && to instanceof float[] b) {
            boolean bf16 = fromType == DType.BF16;
            loop.forEachRow((oo, io, u1, u2, n) -> {
                for (int i = 0; i < n; i++) {
                    short h = a[io + i * si];
                    b[oo + i * so] = bf16 ? HalfFloats.bf16ToFloat(h) : HalfFloats.f16ToFloat(h);
                }
            });
            return true;
        }
        return false;
    }

    private static void sameTypeStrided(Object from, int io, int si, Object to, int oo, int so, int n) {
        switch (from) {
            case float[] a -> { float[] b = (float[]) to; for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; }
            case double[] a -> { double[] b = (double[]) to; for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; }
            case short[] a -> { short[] b = (short[]) to; for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; }
            case int[] a -> { int[] b = (int[]) to; for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; }
            case long[] a -> { long[] b = (long[]) to; for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; }
            case byte[] a -> { byte[] b = (byte[]) to; for (int i = 0; i < n; i++) b[oo + i * so] = a[io + i * si]; }
            default -> throw new IllegalStateException("copy: unexpected storage");
        }
    }

    static void fill(Tensor t, double value) {
        Storage s = t.storage();
        StridedLoop loop = new StridedLoop(t.shape(), new int[][] {t.strides()}, new int[] {t.offset()});
        int st = loop.innerStride(0);
        if (s.array() instanceof float[] f && st == 1) {
            loop.forEachRow((o, u1, u2, u3, n) -> Arrays.fill(f, o, o + n, (float) value));
            return;
        }
        boolean integral = !s.dtype().isFloating() && Math.rint(value) == value && Math.abs(value) < 0x1p62;
        loop.forEachRow((o, u1, u2, u3, n) -> {
            for (int i = 0; i < n; i++) {
                if (integral) {
                    s.setLong(o + i * st, (long) value);
                } else {
                    s.setDouble(o + i * st, value);
                }
            }
        });
    }

    static Tensor cat(int dim, Tensor... tensors) {
        if (tensors.length == 0) {
            throw new IllegalArgumentException("cat: needs at least one tensor");
        }
        int[] first = tensors[0].shape();
        int d = Shapes.dim("cat", dim, first.length);
        DType dtype = tensors[0].dtype();
        int total = 0;
        for (int i = 0; i < tensors.length; i++) {
            int[] s = tensors[i].shape();
            if (s.length != first.length) {
                throw new IllegalArgumentException("cat: tensor " + i + " has shape " + Shapes.str(s) + ", tensor 0 has "
                        + Shapes.str(first));
            }
            for (int k = 0; k < s.length; k++) {
                if (k != d && s[k] != first[k]) {
                    throw new IllegalArgumentException("cat: tensor " + i + " has shape " + Shapes.str(s) + " but tensor 0 has "
                            + Shapes.str(first) + " (only dim " + dim + " may differ)");
                }
            }
            dtype = DType.promote(dtype, tensors[i].dtype());
            total += s[d];
        }
        int[] outShape = first.clone();
        outShape[d] = total;
        Tensor out = Tensor.zeros(dtype, outShape);
        int at = 0;
        for (Tensor t : tensors) {
            int n = t.shape()[d];
            copy(t, out.narrow(d, at, n));
            at += n;
        }
        return out;
    }
}
