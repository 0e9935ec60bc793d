package dev.tessera.autograd;

import dev.tessera.tensor.DType;

/**
 * Autocast (G9), the compute half of mixed precision (Micikevicius et al. 2018, Mixed Precision
 * Training): {@code try (var s = Autocast.enable(DType.BF16)) { ... }} makes the matmul-class ops
 * run in a 16-bit type on this thread while the parameters stay F32 master weights, as
 * {@code torch.autocast('cpu', dtype=torch.bfloat16)} does. Scopes nest and restore the previous
 * mode on close, like {@link GradMode}.
 *
 * <p>The rule, for a matmul-class op on floating inputs a, b of types F32, BF16 or F16 (F64 and
 * integers are left alone, as PyTorch's autocast leaves them): y = cast_t(a) · cast_t(b), the
 * product accumulated in F32 and rounded to t, then handed on in promote(type a, type b), the type
 * the op would have returned outside autocast. Both casts are recorded ops, so the gradient reaching
 * an F32 parameter is the low-precision product's gradient converted back to F32. Every op outside
 * the matmul class (softmax, norms, losses, reductions, elementwise) therefore sees its usual F32
 * inputs and keeps full precision, which is what PyTorch's CPU fp32 list asks of losses and norms;
 * the one difference from PyTorch is that elementwise ops between two products are not rounded to t.
 *
 * <p>The matmul class is {@link Variable#matmul} (Linear, attention scores and P·V, every product of
 * the composite components) and the fused attention kernels, which round their q, k, v and output
 * through {@link #round} to the same effect. PyTorch's CPU list also has conv and bmm; here those
 * are matmuls.
 */
public final class Autocast {
    private static final ThreadLocal<DType[]> LOW = ThreadLocal.withInitial(() -> new DType[1]);

    private Autocast() {}

    /** Makes matmul-class ops compute in {@code low} (BF16 or F16) until the returned scope is closed. */
    public static GradMode.Scope enable(DType low) {
        if (low != DType.BF16 && low != DType.F16) {
            throw new IllegalArgumentException("Autocast: the low-precision type must be BF16 or F16, got " + low);
        }
        return set(low);
    }

    /** Turns autocast off (inside an enabled block) until the returned scope is closed. */
    public static GradMode.Scope disable() {
        return set(null);
    }

    private static GradMode.Scope set(DType low) {
        DType[] slot = LOW.get();
        DType previous = slot[0];
        slot[0] = low;
        return () -> slot[0] = previous;
    }

    /** The type matmul-class ops compute in on this thread, or null when autocast is off. */
    public static DType dtype() {
        return LOW.get()[0];
    }

    /** Whether autocast would cast a tensor of this type: F32, BF16 and F16, never F64 or integers. */
    static boolean eligible(DType t) {
        return t == DType.F32 || t == DType.BF16 || t == DType.F16;
    }

    /**
     * {@code x} rounded to the autocast type and converted back to its own type (both recorded), or
     * {@code x} itself when autocast is off or x is not eligible: what a fused kernel computing in
     * F32 applies to its inputs and output to match a matmul-class op's precision.
     */
    public static Variable round(Variable x) {
        DType low = dtype();
        if (low == null || !eligible(x.dtype()) || x.dtype() == low) {
            return x;
        }
        return x.to(low).to(x.dtype());
    }
}
