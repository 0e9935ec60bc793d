package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Nyström attention (B17): Xiong, Zeng, Chakraborty, Tan, Fung, Li, Singh, "Nyströmformer: A
 * Nyström-Based Algorithm for Approximating Self-Attention", AAAI 2021. The T×S softmax matrix is
 * approximated from m landmarks, so attention costs O((T+S)·m·D + m³) instead of O(T·S·D):
 *
 * <pre>
 *   q' = q·D^(−1/4),  k' = k·D^(−1/4)                     (so q'·k' = q·k/√D)
 *   q̃_i = mean of q' over segment i,  k̃_i = mean of k' over segment i      (segment means, i = 1..m)
 *   F = softmax(Q' K̃ᵀ) (T, m),   A = softmax(Q̃ K̃ᵀ) (m, m),   B = softmax(Q̃ K'ᵀ) (m, S)
 *   Z₀ = Aᵀ / (‖A‖₁ ‖A‖_∞),  Z_{j+1} = ¼ Z_j (13I − A Z_j (15I − A Z_j (7I − A Z_j)))      (≈ A⁺)
 *   out = F (Z (B V))  [ + depthwise-conv(V) along time, the optional skip ]
 * </pre>
 *
 * Segments split the T (or S) positions into m contiguous runs, boundaries ⌊i·T/m⌋; when m divides
 * T they are the equal segments of the paper (and of Hugging Face's {@code NystromformerSelfAttention},
 * which requires it). When m ≥ T or m ≥ S every position could be its own landmark and the exact
 * softmax(q·k/√D)·V is returned, as the reference does for m = T. The products are taken right to
 * left so that no T×S matrix is formed.
 *
 * <p>Z₀: A is a softmax, so ‖A‖_∞ (the largest row sum) is 1 and ‖A‖₁ is the largest column sum;
 * both are taken per (batch, head) matrix, as the paper writes it (the reference's default "original"
 * option takes one maximum over the whole batch and all heads; its "exact" option is the paper's and
 * is what the golden fixture compares with). The gradient flows through the iteration and through Z₀.
 *
 * <p>The skip: a depthwise convolution of V over time with a per-head kernel of odd length K, zero
 * padded by K/2 on each side, {@code conv.weight} (H, 1, K, 1) as the reference's {@code Conv2d}.
 * It needs T = S.
 *
 * <p>Landmarks average over the whole sequence, so query t sees keys after t: the kernel is
 * bidirectional only and refuses causal and document masks with a one-line error (a decoder cannot
 * use it; {@link AttentionKind#NYSTROM} is for encoders).
 */
public final class NystromAttention extends Module implements AttentionKernel {

    /**
     * @param landmarks m, the number of segment-mean landmarks (≥ 1)
     * @param pinvIterations the iterations of the pseudo-inverse (1..100; the paper uses 6)
     * @param convKernel the length K of the depthwise-convolution skip on V, odd, or 0 for none
     */
    public record Options(int landmarks, int pinvIterations, int convKernel) {
        /** The paper's m = 64 and 6 iterations, without the convolution skip. */
        public static final Options DEFAULT = new Options(64, 6, 0);

        public Options {
            if (landmarks < 1) {
                throw new IllegalArgumentException("NystromAttention: landmarks must be >= 1, got " + landmarks);
            }
            if (pinvIterations < 1 || pinvIterations > 100) {
                throw new IllegalArgumentException("NystromAttention: pinvIterations must be in [1, 100], got " + pinvIterations);
            }
            if (convKernel < 0 || (convKernel > 0 && convKernel % 2 == 0)) {
                throw new IllegalArgumentException("NystromAttention: convKernel must be 0 (none) or odd >= 1, got " + convKernel);
            }
        }
    }

    /** Holds {@code weight} so its name is {@code conv.weight}, as in Hugging Face. */
    private static final class Conv extends Module {
        final Variable weight;

        Conv(int heads, int k, DType dtype, Generator g) {
            double bound = 1 / Math.sqrt(k); // torch's Conv2d default: kaiming-uniform, fan_in = K
            double[] w = new double[heads * k];
            for (int i = 0; i < w.length; i++) {
                w[i] = (2 * g.nextDouble() - 1) * bound;
            }
            weight = parameter("weight", Tensor.of(w, heads, 1, k, 1).to(dtype));
        }
    }

    private final Options options;
    private final int heads;
    private final Conv conv;

    /** @param heads H and dtype, of the convolution skip's weight (unused without it); g draws that weight */
    public NystromAttention(Options options, int heads, DType dtype, Generator g) {
        if (options == null || heads < 1) {
            throw new IllegalArgumentException("NystromAttention: options are required and heads must be >= 1, got " + heads);
        }
        this.options = options;
        this.heads = heads;
        this.conv = options.convKernel() > 0 ? child("conv", new Conv(heads, options.convKernel(), dtype, g)) : null;
    }

    public Options options() {
        return options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("NystromAttention", q, k, v, mask);
        refuseMasks("NystromAttention", mask);
        int t = q.size(2), s = k.size(2), m = options.landmarks();
        if (conv != null && (t != s || q.size(1) != heads)) {
            throw new IllegalArgumentException("NystromAttention: the convolution skip needs T == S and " + heads + " heads, got T " + t
                    + ", S " + s + ", " + q.size(1) + " heads");
        }
        double scale = Math.pow(q.size(3), -0.25);
        Variable qs = q.mul(scale); // (B, H, T, D)
        Variable ks = k.mul(scale); // (B, H, S, D)
        Variable out;
        if (m >= t || m >= s) {
            out = qs.matmul(ks.mT()).softmax(-1).matmul(v); // (B, H, T, Dv), every position a landmark
        } else {
            Variable qLand = segmentMeans(m, t, q).matmul(qs); // (B, H, m, D)
            Variable kLand = segmentMeans(m, s, q).matmul(ks); // (B, H, m, D)
            Variable f = qs.matmul(kLand.mT()).softmax(-1); // (B, H, T, m)
            Variable a = qLand.matmul(kLand.mT()).softmax(-1); // (B, H, m, m)
            Variable b = qLand.matmul(ks.mT()).softmax(-1); // (B, H, m, S)
            out = f.matmul(pseudoInverse(a, options.pinvIterations()).matmul(b.matmul(v))); // (B, H, T, Dv)
        }
        return conv == null ? out : out.add(depthwiseConv(v, conv.weight.to(v.dtype())));
    }

    /** The one-line error of landmark kernels (Nyström, SOFT) for a causal or document mask. */
    static void refuseMasks(String op, AttentionMask mask) {
        if (mask.masksAnything()) {
            throw new IllegalArgumentException(op + ": landmarks average over the whole sequence, so it is bidirectional only; got a "
                    + (mask.causal() ? "causal" : "document") + " mask");
        }
    }

    /**
     * P (m, L) in {@code like}'s dtype on its device: row i averages positions [⌊i·L/m⌋, ⌊(i+1)·L/m⌋),
     * so P·X are the m segment means of X (…, L, D).
     */
    static Variable segmentMeans(int m, int length, Variable like) {
        double[] p = new double[m * length];
        for (int i = 0; i < m; i++) {
            int lo = (int) ((long) i * length / m), hi = (int) ((long) (i + 1) * length / m);
            for (int j = lo; j < hi; j++) {
                p[i * length + j] = 1.0 / (hi - lo);
            }
        }
        return OnDevice.constant(Tensor.of(p, m, length), like);
    }

    /**
     * The paper's iterative Moore–Penrose pseudo-inverse of a (…, m, m) with non-negative entries:
     * Z₀ = {@link #initialInverse}(a), then {@code iterations} steps Z ← ¼ Z (13I − aZ (15I − aZ (7I − aZ))).
     */
    public static Variable pseudoInverse(Variable a, int iterations) {
        int m = a.size(-1);
        Variable eye = OnDevice.constant(Tensor.eye(m, a.dtype()), a); // (m, m)
        Variable z = initialInverse(a); // (…, m, m)
        for (int i = 0; i < iterations; i++) {
            Variable az = a.matmul(z);
            Variable inner = eye.mul(7).sub(az);
            inner = eye.mul(15).sub(az.matmul(inner));
            inner = eye.mul(13).sub(az.matmul(inner));
            z = z.mul(0.25).matmul(inner);
        }
        return z;
    }

    /**
     * Z₀ = aᵀ / (‖a‖₁ ‖a‖_∞) per matrix, for a (…, m, m) with non-negative entries: the largest column
     * sum times the largest row sum (1 for a softmax), the start that makes the iterations converge.
     */
    static Variable initialInverse(Variable a) {
        return a.mT().div(a.sum(true, -2).max(true, -1).mul(a.sum(true, -1).max(true, -2))); // (…, m, m)
    }

    /** out_t = Σ_j w[h, j] v_{t + j − K/2} with zeros outside [0, T): v (B, H, T, Dv), weight (H, 1, K, 1). */
    static Variable depthwiseConv(Variable v, Variable weight) {
        int kSize = weight.size(2), pad = kSize / 2, t = v.size(2);
        int[] padShape = v.shape();
        padShape[2] = pad;
        Variable zeros = OnDevice.zeros(v, padShape);
        Variable padded = pad == 0 ? v : Variable.cat(2, zeros, v, zeros); // (B, H, T + 2·pad, Dv)
        Variable w = weight.reshape(1, weight.size(0), kSize, 1); // (1, H, K, 1)
        Variable out = null;
        for (int j = 0; j < kSize; j++) {
            Variable term = padded.narrow(2, j, t).mul(w.narrow(2, j, 1)); // (B, H, T, Dv)
            out = out == null ? term : out.add(term);
        }
        return out;
    }
}
