package dev.tessera.nn.optim;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Element access to a contiguous, array-backed F32 or F64 tensor for the optimizers' update
 * loops: reads widen to double, writes round to the tensor's type. Two final subclasses only, so
 * the loops' call sites stay bimorphic and inline.
 */
abstract sealed class Buf permits Buf.F32, Buf.F64 {
    final int n;

    Buf(int n) {
        this.n = n;
    }

    abstract double get(int i);

    abstract void set(int i, double v);

    /** Whether {@link #of} can view {@code t} directly (no copy). */
    static boolean direct(Tensor t) {
        return t.isContiguous() && (t.storage().floats() != null || t.storage().doubles() != null);
    }

    /** A view over a tensor for which {@link #direct} holds. */
    static Buf of(Tensor t) {
        float[] f = t.storage().floats();
        if (f != null) {
            return new F32(f, t.offset(), t.numel());
        }
        return new F64(t.storage().doubles(), t.offset(), t.numel());
    }

    /** A readable view: the tensor itself when direct, else a contiguous F32 (or F64) copy. */
    static Buf read(Tensor t) {
        return of(direct(t) ? t : workCopy(t));
    }

    /** The working dtype for a parameter of type {@code d}: F64 stays F64, all else computes in F32. */
    static DType workType(DType d) {
        return d == DType.F64 ? DType.F64 : DType.F32;
    }

    static Tensor workCopy(Tensor t) {
        return t.to(workType(t.dtype())).copy();
    }

    static final class F32 extends Buf {
        final float[] a;
        final int off;

        F32(float[] a, int off, int n) {
            super(n);
            this.a = a;
            this.off = off;
        }

        @Override
        double get(int i) {
            return a[off + i];
        }

        @Override
        void set(int i, double v) {
            a[off + i] = (float) v;
        }
    }

    static final class F64 extends Buf {
        private final double[] a;
        private final int off;

        F64(double[] a, int off, int n) {
            super(n);
            this.a = a;
            this.off = off;
        }

        @Override
        double get(int i) {
            return a[off + i];
        }

        @Override
        void set(int i, double v) {
            a[off + i] = v;
        }
    }
}
