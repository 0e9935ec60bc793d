package dev.tessera.nn.attention;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.FlashAttention;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Tensor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exact softmax attention without the T×S score matrix (B4): Rabe &amp; Staats, "Self-attention
 * Does Not Need O(n²) Memory", 2021; Dao et al., "FlashAttention: Fast and Memory-Efficient Exact
 * Attention with IO-Awareness", 2022 (backward as in FlashAttention-2, Dao 2023).
 *
 * <p>Forward, for each query row, over key blocks of {@code keyBlock} keys (online softmax):
 *
 * <pre>
 *   x_s = q·k_s / √D  (−∞ where the mask forbids s)
 *   m' = max(m, max_s x_s);   l' = e^(m−m') l + Σ_s e^(x_s−m');   a' = e^(m−m') a + Σ_s e^(x_s−m') v_s
 *   out = a / l,   L = m + log l   (the row's logsumexp, the only thing kept for backward)
 * </pre>
 *
 * Backward recomputes the probabilities block by block from L, never storing them:
 *
 * <pre>
 *   P_ts = e^(x_ts − L_t);  Δ_t = dO_t · O_t
 *   dV_s += P_ts dO_t;   dS_ts = P_ts (dO_t · v_s − Δ_t);   dQ_t += dS_ts k_s / √D;   dK_s += dS_ts q_t / √D
 * </pre>
 *
 * <p>Memory: besides copies of q, k, v, out and their gradients (O(B·H·(T+S)·D)) and L (B·H·T),
 * each (batch, head) task holds one block of {@code keyBlock} scores and one D-vector accumulator:
 * O(T·D + block), never O(T·S), in forward and in backward alike. Every scratch array goes through
 * one allocator that records the largest request ({@link #peakScratchElements()}), which the tests
 * use to show no T×S buffer exists. F32 inputs take {@link FlashAttention}, the same algorithm in
 * F32 on the Vector API (FlashAttention-2's loop order, 64-row × 64-key blocks as register-tiled
 * GEMMs; see {@link FlashAttentionFunction}), whose largest scratch array is recorded likewise. F64
 * inputs take the scalar kernel below, in double; outputs and gradients come back in the inputs' dtype. A fully masked row yields
 * zeros (naive softmax would give NaN). (batch, head) pairs run in parallel, each sequentially, so
 * results are bitwise deterministic for any thread count.
 */
public final class MemoryEfficientAttention implements AttentionKernel {
    private final int keyBlock;
    private final AtomicLong peakScratch = new AtomicLong();

    public MemoryEfficientAttention() {
        this(64);
    }

    /** @param keyBlock keys per block of the double kernel (F64 inputs); F32 inputs take {@link FlashAttention}'s fixed blocks */
    public MemoryEfficientAttention(int keyBlock) {
        if (keyBlock <= 0) {
            throw new IllegalArgumentException("MemoryEfficientAttention: keyBlock must be positive, got " + keyBlock);
        }
        this.keyBlock = keyBlock;
    }

    /** The largest single scratch array (elements) any call so far allocated, input/output copies included. */
    public long peakScratchElements() {
        return peakScratch.get();
    }

    public void resetPeakScratch() {
        peakScratch.set(0);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("MemoryEfficientAttention", q, k, v, mask);
        if (q.dtype() == DType.F32) { // the Vector-API kernel, in fixed 64-key blocks
            FlashAttentionFunction fn = new FlashAttentionFunction(1 / Math.sqrt(q.size(3)), mask);
            long outputs = (long) q.size(0) * q.size(1) * q.size(2) * v.size(3);
            long inputs = Math.max(q.data().numel(), Math.max(k.data().numel(), v.data().numel()));
            long kernel = FlashAttention.largestArrayFloats(fn.problem(q.shape(), k.size(2), v.size(3)));
            peakScratch.accumulateAndGet(Math.max(kernel, Math.max(inputs, outputs)), Math::max);
            return fn.call(q, k, v);
        }
        return new Fn(mask).call(q, k, v);
    }

    private double[] alloc(long n) {
        peakScratch.accumulateAndGet(n, Math::max);
        return new double[Math.toIntExact(n)];
    }

    /** A contiguous double copy of t (one array of numel elements, counted like any scratch). */
    private double[] read(Tensor t) {
        peakScratch.accumulateAndGet(t.numel(), Math::max);
        return t.toDoubleArray();
    }

    /** The op: inputs q, k, v; saves q, k, v, out (F64) and the row logsumexps (F64). */
    private final class Fn extends CustomFunction {
        private final AttentionMask mask;

        Fn(AttentionMask mask) {
            this.mask = mask;
        }

        @Override
        protected String name() {
            return "memory_efficient_attention";
        }

        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            Tensor q = in[0];
            Tensor k = in[1];
            Tensor v = in[2];
            int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), dv = v.size(3);
            double[] qa = read(q), ka = read(k), va = read(v);
            double[] out = alloc((long) bsz * heads * t * dv);
            double[] lse = alloc((long) bsz * heads * t);
            long[][] docs = documents(bsz);
            double scale = 1 / Math.sqrt(d);
            Parallel.forEachChunk(bsz * heads, bh -> {
                long[] doc = docs[bh / heads];
                double[] scores = alloc(keyBlock);
                double[] acc = alloc(dv);
                for (int i = 0; i < t; i++) {
                    int qOff = (bh * t + i) * d;
                    int hi = lastKey(i, t, s);
                    long qDoc = doc == null ? 0 : doc[s - t + i];
                    double m = Double.NEGATIVE_INFINITY;
                    double l = 0;
                    java.util.Arrays.fill(acc, 0);
                    for (int s0 = 0; s0 <= hi; s0 += keyBlock) {
                        int s1 = Math.min(s0 + keyBlock, hi + 1);
                        double blockMax = Double.NEGATIVE_INFINITY;
                        for (int j = s0; j < s1; j++) {
                            double x = Double.NEGATIVE_INFINITY;
                            if (doc == null || doc[j] == qDoc) {
                                x = scale * dot(qa, qOff, ka, (bh * s + j) * d, d);
                                blockMax = Math.max(blockMax, x);
                            }
                            scores[j - s0] = x;
                        }
                        if (blockMax == Double.NEGATIVE_INFINITY) {
                            continue;
                        }
                        double mNew = Math.max(m, blockMax);
                        double correction = Math.exp(m - mNew);
                        l *= correction;
                        for (int c = 0; c < dv; c++) {
                            acc[c] *= correction;
                        }
                        for (int j = s0; j < s1; j++) {
                            double p = Math.exp(scores[j - s0] - mNew);
                            if (p != 0) {
                                l += p;
                                axpy(p, va, (bh * s + j) * dv, acc, 0, dv);
                            }
                        }
                        m = mNew;
                    }
                    int oOff = (bh * t + i) * dv;
                    for (int c = 0; c < dv; c++) {
                        out[oOff + c] = l == 0 ? 0 : acc[c] / l;
                    }
                    lse[bh * t + i] = l == 0 ? Double.NEGATIVE_INFINITY : m + Math.log(l);
                }
            });
            Tensor out64 = Tensor.of(out, bsz, heads, t, dv);
            ctx.save(q, k, v, out64, Tensor.of(lse, bsz, heads, t));
            return out64.to(q.dtype());
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor gradOut) {
            Tensor q = ctx.saved(0), k = ctx.saved(1), v = ctx.saved(2);
            int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), dv = v.size(3);
            double[] qa = read(q), ka = read(k), va = read(v);
            double[] oa = read(ctx.saved(3));
            double[] lse = read(ctx.saved(4));
            double[] go = read(gradOut);
            double[] dq = alloc(qa.length), dk = alloc(ka.length), dvv = alloc(va.length);
            long[][] docs = documents(bsz);
            double scale = 1 / Math.sqrt(d);
            Parallel.forEachChunk(bsz * heads, bh -> {
                long[] doc = docs[bh / heads];
                for (int i = 0; i < t; i++) {
                    double rowLse = lse[bh * t + i];
                    if (rowLse == Double.NEGATIVE_INFINITY) {
                        continue;
                    }
                    int qOff = (bh * t + i) * d;
                    int oOff = (bh * t + i) * dv;
                    double delta = dot(go, oOff, oa, oOff, dv);
                    int hi = lastKey(i, t, s);
                    long qDoc = doc == null ? 0 : doc[s - t + i];
                    for (int j = 0; j <= hi; j++) {
                        if (doc != null && doc[j] != qDoc) {
                            continue;
                        }
                        int kOff = (bh * s + j) * d;
                        int vOff = (bh * s + j) * dv;
                        double p = Math.exp(scale * dot(qa, qOff, ka, kOff, d) - rowLse);
                        if (p == 0) {
                            continue;
                        }
                        axpy(p, go, oOff, dvv, vOff, dv);
                        double ds = p * (dot(go, oOff, va, vOff, dv) - delta) * scale;
                        axpy(ds, ka, kOff, dq, qOff, d);
                        axpy(ds, qa, qOff, dk, kOff, d);
                    }
                }
            });
            return new Tensor[] {
                Tensor.of(dq, q.shape()).to(q.dtype()), Tensor.of(dk, k.shape()).to(k.dtype()), Tensor.of(dvv, v.shape()).to(v.dtype())};
        }

        /** The last key index query i may see (causal bound), S − 1 without a causal mask. */
        private int lastKey(int i, int t, int s) {
            return mask.causal() ? Math.min(mask.queryOffset() + i, s - 1) : s - 1;
        }

        private long[][] documents(int bsz) {
            long[][] docs = new long[bsz][];
            for (int b = 0; b < bsz; b++) {
                docs[b] = KernelSupport.documentRow(mask, b);
            }
            return docs;
        }
    }

    private static double dot(double[] a, int ao, double[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** y[yo..] += alpha · x[xo..]. */
    private static void axpy(double alpha, double[] x, int xo, double[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }
}
