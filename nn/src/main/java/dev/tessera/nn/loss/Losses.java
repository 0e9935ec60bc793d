package dev.tessera.nn.loss;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Training losses as differentiable functions of {@link Variable}s. Every loss returns a 0-d
 * variable (mean reduction).
 */
public final class Losses {
    /** PyTorch's default ignore index. */
    public static final int IGNORE_INDEX = -100;

    private Losses() {}

    /** {@link #crossEntropy(Variable, Tensor, int, double)} with ignore index −100 and no smoothing. */
    public static Variable crossEntropy(Variable logits, Tensor targets) {
        return crossEntropy(logits, targets, IGNORE_INDEX, 0);
    }

    /**
     * Softmax cross-entropy with label smoothing (G14; Szegedy et al. 2016, "Rethinking the
     * Inception Architecture"), as torch.nn.functional.cross_entropy with mean reduction. With
     * log p = log_softmax(z) over the C classes of each row and ε the smoothing,
     *
     * <pre>
     *   ℓ_n  = (1 − ε)·(−log p_{n, t_n}) + ε·(1/C)·Σ_c (−log p_{n, c})
     *   loss = Σ_{n : t_n ≠ ignore} ℓ_n / |{n : t_n ≠ ignore}|
     * </pre>
     *
     * (NaN when every target is ignored, as PyTorch). Built from primitive ops (log-softmax,
     * gather, a 0/1 mask), so autograd gives the gradient
     * ∂loss/∂z_{n,c} = (p_{n,c} − (1 − ε)·[c = t_n] − ε/C) / count on kept rows, 0 on ignored ones.
     * {@link #crossEntropyFused} computes the same in one pass with less memory.
     *
     * @param logits (..., C), floating: classes in the last dimension, any leading shape ((C), (N, C), (B, T, C), ...)
     * @param targets the leading shape of the logits (0-d for (C) logits), class ids, I64 (or I32), each in [0, C) or
     *     {@code ignoreIndex}
     */
    public static Variable crossEntropy(Variable logits, Tensor targets, int ignoreIndex, double labelSmoothing) {
        return crossEntropy(logits, targets, ignoreIndex, labelSmoothing, Reduction.MEAN);
    }

    /** How a loss folds its per-element terms, as PyTorch's {@code reduction}. */
    public enum Reduction {
        /** The per-element losses, shaped as the targets (0 where a target is ignored). */
        NONE,
        SUM,
        /** The sum over the kept elements divided by their count. */
        MEAN
    }

    /** {@link #crossEntropy(Variable, Tensor, int, double)} with any {@link Reduction}. */
    public static Variable crossEntropy(Variable logits, Tensor targets, int ignoreIndex, double labelSmoothing, Reduction reduction) {
        long[] t = checkCrossEntropy(logits, targets, ignoreIndex, labelSmoothing);
        int c = logits.size(-1);
        int m = t.length;
        long[] safe = new long[m];
        double[] mask = new double[m];
        int count = 0;
        for (int i = 0; i < m; i++) {
            boolean keep = t[i] != ignoreIndex;
            safe[i] = keep ? t[i] : 0;
            mask[i] = keep ? 1 : 0;
            count += keep ? 1 : 0;
        }
        Variable logp = logits.reshape(m, c).logSoftmax(-1); // (M, C)
        Device device = logits.data().device(); // the targets were checked on the host; the index and mask go to the logits
        Variable perRow = logp.gather(1, Tensor.of(safe, m, 1).to(device)).reshape(m).neg(); // (M)
        if (labelSmoothing != 0) {
            perRow = perRow.mul(1 - labelSmoothing).add(logp.mean(1).neg().mul(labelSmoothing));
        }
        Variable kept = perRow.mul(Variable.constant(Tensor.of(mask, m).to(logits.dtype()).to(device)));
        return switch (reduction) {
            case NONE -> kept.reshape(targets.shape());
            case SUM -> kept.sum();
            case MEAN -> kept.sum().div(count);
        };
    }

    /** {@link #crossEntropyFused(Variable, Tensor, int, double)} with the default ignore index and no smoothing. */
    public static Variable crossEntropyFused(Variable logits, Tensor targets) {
        return crossEntropyFused(logits, targets, IGNORE_INDEX, 0);
    }

    /**
     * The same loss and gradient as {@link #crossEntropy(Variable, Tensor, int, double)} from a
     * fused kernel: forward keeps only each row's log-sum-exp and backward writes the gradient
     * directly, so no (N, C) intermediates beyond the gradient itself are allocated (math in double,
     * rows in parallel). It is not faster than the composite on CPU today (scalar exp against the
     * Vector API kernels); use it where memory for large vocabularies matters.
     */
    public static Variable crossEntropyFused(Variable logits, Tensor targets, int ignoreIndex, double labelSmoothing) {
        long[] t = checkCrossEntropy(logits, targets, ignoreIndex, labelSmoothing);
        return new CrossEntropyFunction(t, ignoreIndex, labelSmoothing).call(logits);
    }

    /** Validates the arguments and returns the targets as longs in row order. */
    private static long[] checkCrossEntropy(Variable logits, Tensor targets, int ignoreIndex, double labelSmoothing) {
        String op = "crossEntropy";
        if (logits.rank() < 1) {
            throw new IllegalArgumentException(op + ": logits must have a class dimension (..., C), got a 0-d tensor");
        }
        if (!logits.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": logits must be floating, got " + logits.dtype());
        }
        if (targets.dtype() != DType.I64 && targets.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": targets must be I64 (or I32) class ids, got " + targets.dtype());
        }
        int[] rows = Arrays.copyOf(logits.shape(), logits.rank() - 1);
        if (!Arrays.equals(targets.shape(), rows)) {
            throw new IllegalArgumentException(op + ": targets shape " + Arrays.toString(targets.shape()) + " does not match logits shape "
                    + Arrays.toString(logits.shape()) + " (expected " + Arrays.toString(rows) + ")");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
        int c = logits.size(-1);
        if (c == 0) {
            throw new IllegalArgumentException(op + ": logits have 0 classes " + Arrays.toString(logits.shape()));
        }
        long[] t = targets.toLongArray();
        for (int i = 0; i < t.length; i++) {
            if (t[i] != ignoreIndex && (t[i] < 0 || t[i] >= c)) {
                throw new IllegalArgumentException(op + ": target " + t[i] + " at flat position " + i + " is outside [0, " + c
                        + ") and is not the ignore index " + ignoreIndex);
            }
        }
        return t;
    }

    /**
     * z-loss (A10; PaLM, Chowdhery et al. 2022, §5): coeff·mean(log²Z) with log Z = logsumexp over
     * the last dim, which keeps the softmax normaliser near 1 (PaLM uses coeff = 1e-4).
     */
    public static Variable zLoss(Variable logits, double coeff) {
        if (logits.rank() < 1 || !logits.dtype().isFloating()) {
            throw new IllegalArgumentException("zLoss: logits must be floating with at least 1 dim, got " + logits.dtype() + " "
                    + Arrays.toString(logits.shape()));
        }
        if (!Double.isFinite(coeff)) {
            throw new IllegalArgumentException("zLoss: coeff must be finite, got " + coeff);
        }
        return logits.logsumexp(false, -1).square().mean().mul(coeff);
    }

    /** Mean squared error mean((a − b)²); shapes and dtypes must be equal (no broadcasting). */
    public static Variable mse(Variable a, Variable b) {
        return mse(a, b, Reduction.MEAN);
    }

    /** Squared error (a − b)², per element, summed or averaged. */
    public static Variable mse(Variable a, Variable b, Reduction reduction) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("mse: shapes " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape())
                    + " differ");
        }
        if (a.dtype() != b.dtype() || !a.dtype().isFloating()) {
            throw new IllegalArgumentException("mse: needs two tensors of one floating dtype, got " + a.dtype() + " and " + b.dtype());
        }
        Variable squared = a.sub(b).square();
        return switch (reduction) {
            case NONE -> squared;
            case SUM -> squared.sum();
            case MEAN -> squared.mean();
        };
    }
}
