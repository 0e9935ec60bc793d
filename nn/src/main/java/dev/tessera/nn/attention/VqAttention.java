package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Transformer-VQ (B10), after Lingle, "Transformer-VQ: Linear-Time Transformers via Vector
 * Quantization", ICLR 2024 (arXiv 2309.16354). Each head's keys are vector-quantized to a learned
 * codebook C (H, S_c, D); because every quantized key k̂_j = C[z_j] is one of S_c rows, the
 * attention over all keys older than the previous block collapses into per-code sums, so causal
 * softmax attention over the quantized keys costs O(T·(L + S_c)) instead of O(T²):
 *
 * <pre>
 *   z_j = argmin_c ‖k_j − C_c‖²,   k̂_j = k_j + sg(C[z_j] − k_j)            (straight-through estimator)
 *   the quadratic form it equals:
 *     out_i = Σ_{j≤i} exp(s_ij) v_j / Σ_{j≤i} exp(s_ij),   s_ij = q_i·k̂_j/√D + B(i − j)
 *     B(δ) = b_h[δ] for 0 ≤ δ &lt; L, else 0                   (a learned sliding-window bias per head)
 *   computed in blocks of L queries: for query i in block n (positions nL … nL+L−1),
 *     exact over the previous and present block, j ∈ [(n−1)L, i]:    a_ij = exp(s_ij)
 *     through the cache for every older key, one term per code c:      a_ic = exp(q_i·C_c/√D + log N_c)
 *       N_c = #{j &lt; (n−1)L : z_j = c},   U_c = Σ_{j &lt; (n−1)L, z_j = c} v_j
 *     out_i = (Σ_j a_ij v_j + Σ_c a_ic U_c / N_c) / (Σ_j a_ij + Σ_c a_ic)
 *   loss += β ‖k − sg(C[z])‖² + ‖sg(k) − C[z]‖²   (means; commitment and codebook terms, a Regularizer)
 * </pre>
 *
 * That is a softmax over [previous and present block keys; codes weighted by their counts]: the
 * cache's U_c, N_c grow by one block per block (Δᵀ V and Δᵀ 1 of the block that leaves the window),
 * which the paper's code keeps in the same "count bias" log N_c form. Codes with N_c = 0 get −∞.
 *
 * <p>Choices and named departures. (1) <b>Codebook by gradient, not EMA.</b> The paper updates C
 * by exponential moving averages of the assigned keys; here C is an ordinary parameter trained by
 * the VQ-VAE codebook loss ‖sg(k) − C[z]‖² (van den Oord et al. 2017), which the kernel adds to the
 * training loss as a {@link Regularizer} together with the commitment term. Why: a forward pass then
 * has no side effects (evaluation, cached decoding and gradient checks cannot move the codebook),
 * and the codebook is saved, clipped and scheduled like every other parameter. (2) <b>Bias.</b> The
 * paper's code uses a Transformer-XL relative bias (q + v_xl)·W_R r_{i−j} over the same window of L
 * positions (zero beyond it, so the cache needs none); here the bias is one learned scalar per head
 * and distance, b_h[δ] (parameter {@code position_bias} (H, L), zero at start) — same Toeplitz window
 * shape, fewer parameters, and the models' own positions (RoPE or learned) are still applied to
 * q and k before the kernel. Under RoPE the codebook quantizes rotated keys; the paper's models have
 * no RoPE. (3) <b>Gradients.</b> Keys get the straight-through gradient from the exact window only;
 * the cache terms use sg(C), so neither keys nor the codebook get a gradient through them (the
 * codebook learns from its own loss, as in the paper where C is not a gradient-trained parameter);
 * queries and values get their exact gradients through both, as in the paper's code (its per-block
 * cache variables are not stop-gradiented within a sequence). (4) The commitment coefficient β
 * defaults to {@value #COMMITMENT} (from memory of the paper's setting; the paper text was not at
 * hand), the codebook term's coefficient is 1.
 *
 * <p>The kernel is causal only (the paper's model is a decoder): queries are the last T of S keys
 * (queryOffset = S − T), as with a KV cache; under a document mask each document is its own
 * sequence (its own blocks and cache; documents must be contiguous runs). The result equals the
 * quadratic form whatever the block alignment, so decoding through the KV cache gives the full
 * forward's rows. Options ({@link Options}): codebook size S_c, block length L, β.
 */
public final class VqAttention extends Module implements AttentionKernel, Regularizer {
    /** Default codebook size S_c (the paper uses 512 at T ≥ 2048; 64 suits the small models here). */
    public static final int CODEBOOK_SIZE = 64;
    /** Default block length L (the paper uses 512 at T ≥ 2048). */
    public static final int BLOCK_LENGTH = 16;
    /** Default commitment coefficient β. */
    public static final double COMMITMENT = 1e-4;
    /** Standard deviation of the initial codebook entries. */
    public static final double INIT_STD = 0.5;

    /**
     * @param codebookSize S_c, codes per head (1 … 65536)
     * @param blockLength L, the block length and the bias window (≥ 1)
     * @param commitment β, the commitment-loss coefficient (≥ 0)
     */
    public record Options(int codebookSize, int blockLength, double commitment) {
        public Options {
            if (codebookSize < 1 || codebookSize > 65536) {
                throw new IllegalArgumentException("attention vq: option codebook_size must be in [1, 65536], got " + codebookSize);
            }
            if (blockLength < 1) {
                throw new IllegalArgumentException("attention vq: option block_length must be >= 1, got " + blockLength);
            }
            if (!(commitment >= 0) || !Double.isFinite(commitment)) {
                throw new IllegalArgumentException("attention vq: option commitment must be >= 0, got " + commitment);
            }
        }
    }

    private final int heads;
    private final int headDim;
    private final Options options;
    private final Variable codebook;
    private final Variable bias;
    private Variable pending; // the VQ loss of the latest forward with gradients on, until regularization() takes it

    /** Codebook entries N(0, {@value #INIT_STD}²), bias zero. */
    public VqAttention(int heads, int headDim, Options options, Generator g) {
        if (heads <= 0 || headDim <= 0 || options == null) {
            throw new IllegalArgumentException("VqAttention: heads and headDim must be positive and options given, got " + heads + ", "
                    + headDim + ", " + options);
        }
        this.heads = heads;
        this.headDim = headDim;
        this.options = options;
        this.codebook = parameter("codebook", Init.normal(g, INIT_STD, heads, options.codebookSize(), headDim));
        this.bias = parameter("position_bias", Tensor.zeros(DType.F32, heads, options.blockLength()));
    }

    public Options options() {
        return options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("VqAttention", q, k, v, mask, heads, headDim);
        Variable c = codebook.to(k.dtype()); // (H, S_c, D)
        int[] z = codes(k.data(), c.data());
        Variable quantized = lookup(c, z, k.shape()); // (B, H, S, D), C[z] with a gradient to C
        if (GradMode.isEnabled()) {
            Variable commit = k.sub(quantized.detach()).square().mean();
            Variable book = k.detach().sub(quantized).square().mean();
            pending = commit.mul(options.commitment()).add(book);
        }
        Variable kHat = k.add(quantized.sub(k).detach()); // straight-through: value C[z], gradient to k
        return attend(q, kHat, v, c.detach(), z, bias.to(q.dtype()), mask);
    }

    /** β·commitment + codebook loss of the latest forward pass with gradients on (then forgotten); 0 when there was none. */
    @Override
    public Variable regularization() {
        Variable term = pending;
        pending = null;
        return term != null ? term : Variable.constant(Tensor.zeros(codebook.dtype()));
    }

    /** The nearest code of each key: k (B, H, S, D), codebook (H, S_c, D) → z (B·H·S, row-major); ties go to the lower index. */
    public static int[] codes(Tensor k, Tensor codebook) {
        int b = k.size(0), h = k.size(1), s = k.size(2), d = k.size(3), n = codebook.size(1);
        if (codebook.rank() != 3 || codebook.size(0) != h || codebook.size(2) != d) {
            throw new IllegalArgumentException("VqAttention: codebook " + Arrays.toString(codebook.shape()) + " does not fit keys "
                    + Arrays.toString(k.shape()) + " (need (H, S_c, D))");
        }
        double[] ks = k.toDoubleArray();
        double[] cs = codebook.toDoubleArray();
        int[] z = new int[b * h * s];
        for (int row = 0; row < b * h * s; row++) {
            int hh = row / s % h;
            double best = Double.POSITIVE_INFINITY;
            for (int c = 0; c < n; c++) {
                double dist = 0;
                for (int i = 0; i < d; i++) {
                    double diff = ks[row * d + i] - cs[(hh * n + c) * d + i];
                    dist += diff * diff;
                }
                if (dist < best) {
                    best = dist;
                    z[row] = c;
                }
            }
        }
        return z;
    }

    /** C[z] (B, H, S, D) from codebook (H, S_c, D) and codes (B·H·S), differentiable in the codebook. */
    public static Variable lookup(Variable codebook, int[] z, int[] shape) {
        int h = codebook.size(0), n = codebook.size(1), s = shape[2];
        long[] rows = new long[z.length];
        for (int i = 0; i < z.length; i++) {
            rows[i] = (long) (i / s % h) * n + z[i];
        }
        return codebook.reshape(h * n, codebook.size(2)).indexSelect(0, OnDevice.of(Tensor.of(rows, rows.length), codebook)).view(shape);
    }

    /**
     * The blockwise linear-time form as a function of every input, the assignment z fixed: q (B, H, T, D),
     * kHat (B, H, S, D) (whose rows equal codebook[z] for the result to be attention over quantized
     * keys), v (B, H, S, Dv), codebook (H, S_c, D), z (B·H·S, row-major), bias (H, L) giving L.
     */
    public static Variable attend(Variable q, Variable kHat, Variable v, Variable codebook, int[] z, Variable bias, AttentionMask mask) {
        KernelSupport.checkShapes("VqAttention", q, kHat, v, mask);
        int bsz = q.size(0), h = q.size(1), t = q.size(2), s = kHat.size(2);
        if (codebook.rank() != 3 || codebook.size(0) != h || codebook.size(2) != q.size(3) || bias.rank() != 2 || bias.size(0) != h
                || z.length != bsz * h * s) {
            throw new IllegalArgumentException("VqAttention: codebook " + Arrays.toString(codebook.shape()) + ", bias "
                    + Arrays.toString(bias.shape()) + " and " + z.length + " codes do not fit q " + Arrays.toString(q.shape()) + ", k "
                    + Arrays.toString(kHat.shape()) + " (need (H, S_c, D), (H, L), B·H·S)");
        }
        for (int c : z) {
            if (c < 0 || c >= codebook.size(1)) {
                throw new IllegalArgumentException("VqAttention: code " + c + " outside [0, " + codebook.size(1) + ")");
            }
        }
        if (!mask.causal() || mask.queryOffset() != s - t) {
            throw new IllegalArgumentException("VqAttention: Transformer-VQ is a causal decoder kernel; got causal=" + mask.causal()
                    + ", queryOffset " + mask.queryOffset() + " for T " + t + ", S " + s);
        }
        Variable cT = codebook.mT().unsqueeze(0); // (1, H, D, S_c)
        Variable biasPad = Variable.cat(1, bias, OnDevice.zeros(bias, h, 1)); // (H, L + 1): column L is 0
        int rows = mask.documentIds() == null ? 1 : bsz;
        Variable[] out = new Variable[rows];
        for (int r = 0; r < rows; r++) {
            long[] doc = KernelSupport.documentRow(mask, r);
            int[] starts = doc == null ? new int[] {0} : LinearAttentionSums.documentRuns("VqAttention", doc, r);
            int nb = rows == 1 ? bsz : 1;
            List<Variable> parts = new ArrayList<>();
            for (int i = 0; i < starts.length; i++) {
                int start = starts[i];
                int end = i + 1 < starts.length ? starts[i + 1] : s;
                int q0 = Math.max(start, s - t);
                if (q0 >= end) {
                    continue; // no query in this document
                }
                int[] zr = new int[nb * h * (end - start)];
                for (int bh = 0; bh < nb * h; bh++) {
                    System.arraycopy(z, ((r * nb * h) + bh) * s + start, zr, bh * (end - start), end - start);
                }
                Block blk = new Block(cT, biasPad, zr, bias.size(1));
                parts.add(blk.run(rowOf(q, r, rows).narrow(2, q0 - (s - t), end - q0), rowOf(kHat, r, rows).narrow(2, start, end - start),
                        rowOf(v, r, rows).narrow(2, start, end - start), q0 - start));
            }
            out[r] = parts.size() == 1 ? parts.get(0) : Variable.cat(2, parts.toArray(Variable[]::new));
        }
        return rows == 1 ? out[0] : Variable.cat(0, out); // (B, H, T, Dv)
    }

    private static Variable rowOf(Variable x, int r, int rows) {
        return rows == 1 ? x : x.narrow(0, r, 1);
    }

    /** One sequence (a document, or all of it): its codes (b·H·n) and the per-code cache as the blocks advance. */
    private static final class Block {
        private final Variable cT;
        private final Variable biasPad;
        private final int[] z;
        private final int blockLength;
        private Variable sums; // U (b, H, S_c, Dv): Σ v_j per code over the cached positions
        private double[] counts; // N (b·H·S_c)
        private int cached; // positions [0, cached) are in the cache

        Block(Variable cT, Variable biasPad, int[] z, int blockLength) {
            this.cT = cT;
            this.biasPad = biasPad;
            this.z = z;
            this.blockLength = blockLength;
        }

        /** q (b, H, Tq, D) at positions p0 … p0+Tq−1 of k, v (b, H, n, ·) → (b, H, Tq, Dv). */
        Variable run(Variable q, Variable k, Variable v, int p0) {
            int b = q.size(0), h = q.size(1), tq = q.size(2), n = k.size(2), nc = cT.size(3);
            double scale = 1 / Math.sqrt(q.size(3));
            counts = new double[b * h * nc];
            List<Variable> outs = new ArrayList<>();
            for (int m = p0 / blockLength; (long) m * blockLength < p0 + tq; m++) {
                int r0 = Math.max(p0, m * blockLength), r1 = Math.min(p0 + tq, (m + 1) * blockLength); // queries [r0, r1)
                int e0 = Math.max(0, (m - 1) * blockLength); // exact keys [e0, r1): previous and present block
                fold(v, e0, n);
                int rq = r1 - r0, e = r1 - e0;
                Variable qb = q.narrow(2, r0 - p0, rq); // (b, H, R, D)
                Variable ve = v.narrow(2, e0, e); // (b, H, E, Dv)
                long[] idx = new long[rq * e];
                byte[] future = new byte[rq * e];
                for (int i = 0; i < rq; i++) {
                    for (int j = 0; j < e; j++) {
                        int delta = r0 + i - (e0 + j);
                        idx[i * e + j] = delta >= 0 && delta < blockLength ? delta : blockLength;
                        future[i * e + j] = (byte) (delta < 0 ? 1 : 0);
                    }
                }
                Variable bm = biasPad.indexSelect(1, OnDevice.of(Tensor.of(idx, rq * e), biasPad)).view(1, h, rq, e); // B(i − j)
                Tensor ahead = OnDevice.of(Tensor.of(Storage.wrap(DType.BOOL, future), 1, 1, rq, e), q); // (1, 1, R, E)
                Variable exact = qb.matmul(k.narrow(2, e0, e).mT()).mul(scale).add(bm)
                        .maskedFill(ahead, Double.NEGATIVE_INFINITY); // (b, H, R, E)
                if (sums == null) {
                    outs.add(exact.softmax(-1).matmul(ve));
                    continue;
                }
                double[] logN = new double[counts.length];
                double[] safeN = new double[counts.length];
                for (int i = 0; i < counts.length; i++) {
                    logN[i] = counts[i] == 0 ? Double.NEGATIVE_INFINITY : Math.log(counts[i]);
                    safeN[i] = Math.max(counts[i], 1);
                }
                Variable cache = qb.matmul(cT).mul(scale).add(OnDevice.constant(Tensor.of(logN, b, h, 1, nc), q)); // (b, H, R, S_c)
                Variable w = Variable.cat(3, exact, cache).softmax(-1); // (b, H, R, E + S_c)
                Variable means = sums.div(OnDevice.constant(Tensor.of(safeN, b, h, nc, 1), q)); // U_c / N_c
                outs.add(w.narrow(3, 0, e).matmul(ve).add(w.narrow(3, e, nc).matmul(means)));
            }
            return outs.size() == 1 ? outs.get(0) : Variable.cat(2, outs.toArray(Variable[]::new));
        }

        /** Adds positions [cached, upTo) to the cache: U += Δᵀ V, N += Δᵀ 1 over them. */
        private void fold(Variable v, int upTo, int n) {
            if (upTo <= cached) {
                return;
            }
            int b = v.size(0), h = v.size(1), nc = cT.size(3), len = upTo - cached;
            double[] delta = new double[b * h * nc * len]; // Δᵀ (b, H, S_c, len)
            for (int bh = 0; bh < b * h; bh++) {
                for (int j = 0; j < len; j++) {
                    int c = z[bh * n + cached + j];
                    delta[(bh * nc + c) * len + j] = 1;
                    counts[bh * nc + c]++;
                }
            }
            Variable add = OnDevice.constant(Tensor.of(delta, b, h, nc, len), v).matmul(v.narrow(2, cached, len));
            sums = sums == null ? add : sums.add(add);
            cached = upTo;
        }
    }
}
