package dev.tessera.autograd;

import dev.tessera.tensor.DType;

/**
 * Autocast (G9), the compute half of mixed precision (Micikevicius et al. 2018, Mixed Precision
 * Training): {@code try (var s = Autocast.enable(DType.BF16)) { ... }} makes the matmul-class ops
 * run at a 16-bit type's precision on this thread while the parameters stay F32 master weights, as
 * {@code torch.autocast('cpu', dtype=torch.bfloat16)} does. Scopes nest and restore the previous
 * mode on close, like {@link GradMode}.
 *
 * <p>The rule, for a matmul-class op f on inputs x₁..xₙ of types F32, BF16 or F16 (an F64 or
 * integer input leaves the op alone, as PyTorch's autocast does), with r(x) = x rounded to the low
 * type t and converted back to x's type:
 *
 * <pre>  y = r( f(r(x₁), …, r(xₙ)) )     f computed as usual (F32 accumulation),  ∂L/∂xᵢ = r(∂f/∂r(xᵢ) · r(∂L/∂y)) </pre>
 *
 * the values of a t-precision kernel that accumulates in F32 and rounds its result once, which is
 * what PyTorch's CPU kernels do (the golden MLP matches torch bit for bit); every r is a recorded
 * pair of casts, so the gradient reaching an F32 parameter is the t-rounded gradient in F32. Since
 * y keeps the op's usual type, every op outside the matmul class (softmax, norms, losses,
 * reductions, elementwise) sees F32 and keeps full precision; PyTorch would instead run the
 * elementwise ops between two products on t values. The low precision is emulated by F32 kernels
 * on rounded values, so it runs on any backend and saves no memory or time: it is the numerics of
 * mixed-precision training (what bf16 or fp16 with loss scaling does to a run), not its speed.
 *
 * <p>The matmul class is {@link Variable#matmul} (attention scores and P·V, every product of the
 * composite components), Linear (with its bias, as torch's addmm) and the fused attention kernels,
 * each through {@link #apply}. PyTorch's CPU list also has conv and bmm; here those are matmuls.
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
     * {@code op} applied as a matmul-class op under autocast (the rule above; {@code op} itself runs
     * with autocast off), or applied as is when autocast is off or an input is not eligible. Null
     * inputs (an absent bias) pass through.
     */
    public static Variable apply(java.util.function.Function<Variable[], Variable> op, Variable... inputs) {
        DType low = dtype();
        boolean cast = low != null;
        for (Variable x : inputs) {
            cast &= x == null || eligible(x.dtype());
        }
        if (!cast) {
            return op.apply(inputs);
        }
        Variable[] rounded = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            rounded[i] = inputs[i] == null ? null : round(inputs[i], low);
        }
        Variable y;
        try (var off = disable()) {
            y = op.apply(rounded);
        }
        return round(y, low);
    }

    /** x rounded to {@code low} and converted back to its own type (two recorded casts); x itself when it already is low. */
    private static Variable round(Variable x, DType low) {
        return x.dtype() == low ? x : x.to(low).to(x.dtype());
    }
}
