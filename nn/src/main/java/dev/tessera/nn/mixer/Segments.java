package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * The documents of a batch for the sequence-length mixers (FNet, gMLP, MLP-Mixer, pooling): each
 * row split into contiguous runs of equal document id (packed training rows, or BERT's padding
 * mask, whose padding run becomes a document of its own), or one run per row when the mask has no
 * ids. A mixer that mixes over the whole sequence applies itself to each run alone, as attention's
 * document mask keeps packed documents apart; so a position has a local index within its run and
 * the run's length. Runs are contiguous (a change of id starts one), as the packers and padding
 * masks make them; ids that recur after a gap are separate runs.
 */
final class Segments {
    final int batch;
    final int time;
    /** Per (b, t): the run's first position, its length (B·T each). */
    private final int[] start;
    private final int[] length;
    private final boolean whole;

    private Segments(int batch, int time, int[] start, int[] length, boolean whole) {
        this.batch = batch;
        this.time = time;
        this.start = start;
        this.length = length;
        this.whole = whole;
    }

    /** The runs of {@code mask}'s document ids for (B, T) inputs, or whole rows; one-line error naming {@code who} for ids that do not fit. */
    static Segments of(String who, AttentionMask mask, int batch, int time) {
        Tensor docs = mask == null ? null : mask.documentIds();
        int[] start = new int[batch * time];
        int[] length = new int[batch * time];
        if (docs == null) {
            java.util.Arrays.fill(length, time);
            return new Segments(batch, time, start, length, true);
        }
        if (docs.size(0) != batch || docs.size(1) != time) {
            throw new IllegalArgumentException(who + ": document ids " + java.util.Arrays.toString(docs.shape()) + " do not fit (" + batch
                    + ", " + time + ")");
        }
        long[] ids = docs.contiguous().toLongArray();
        for (int b = 0; b < batch; b++) {
            int s = 0;
            for (int t = 1; t <= time; t++) {
                if (t == time || ids[b * time + t] != ids[b * time + t - 1]) {
                    for (int u = s; u < t; u++) {
                        start[b * time + u] = s;
                        length[b * time + u] = t - s;
                    }
                    s = t;
                }
            }
        }
        return new Segments(batch, time, start, length, false);
    }

    /** Whether every row is one run (no document ids): the mixing matrix is the same for all rows. */
    boolean whole() {
        return whole;
    }

    /** Position t's index within its run. */
    int local(int b, int t) {
        return t - start[b * time + t];
    }

    /** The length of position t's run. */
    int length(int b, int t) {
        return length[b * time + t];
    }

    /** Whether positions t and u of row b are in the same run. */
    boolean same(int b, int t, int u) {
        return start[b * time + t] == start[b * time + u];
    }

    /** The longest run. */
    int longest() {
        int m = 0;
        for (int l : length) {
            m = Math.max(m, l);
        }
        return m;
    }

    /** Rows the mixing matrices need: 1 for whole rows (broadcast over B), else B. */
    int rows() {
        return whole ? 1 : batch;
    }

    /** A (rows, T, T) matrix M[b, t, u] = f(b, t, u) within a run, 0 across runs, in {@code dtype}. */
    Tensor matrix(DType dtype, Entry f) {
        int rows = rows();
        double[] m = new double[rows * time * time];
        for (int b = 0; b < rows; b++) {
            for (int t = 0; t < time; t++) {
                for (int u = 0; u < time; u++) {
                    if (same(b, t, u)) {
                        m[(b * time + t) * time + u] = f.at(b, t, u);
                    }
                }
            }
        }
        return Tensor.of(m, rows, time, time).to(dtype);
    }

    /** (rows, T, T) flat indices of W[local t, local u] into a row-major (n, n) weight, within a run; 0 (with a zero mask) across runs. */
    Tensor localIndex(int n) {
        return matrix(DType.F64, (b, t, u) -> (double) local(b, t) * n + local(b, u)).to(DType.I64).reshape(rows() * time * time);
    }

    /** (rows·T) each position's index within its run (I64), to gather per-position weights. */
    Tensor localPositions() {
        long[] p = new long[rows() * time];
        for (int b = 0; b < rows(); b++) {
            for (int t = 0; t < time; t++) {
                p[b * time + t] = local(b, t);
            }
        }
        return Tensor.of(p, rows() * time);
    }

    /**
     * A learned (n, n) position-by-position weight laid out per run: (rows, T, T) with entry
     * W[local t, local u] within a run (lower-triangular there if {@code causal}), 0 across runs.
     */
    Variable perRun(Variable weight, boolean causal) {
        int n = weight.size(0);
        return weight.reshape(n * n).indexSelect(0, OnDevice.of(localIndex(n), weight)).reshape(rows(), time, time)
                .mul(OnDevice.constant(matrix(weight.dtype(), (b, t, u) -> !causal || u <= t ? 1 : 0), weight)); // (1|B, T, T)
    }

    /** A learned per-position bias (n) laid out per run: (rows, T, 1) with entry b[local t]. */
    Variable perRunBias(Variable bias) {
        return bias.indexSelect(0, OnDevice.of(localPositions(), bias)).reshape(rows(), time, 1);
    }

    /** Rows p … p+t−1 of a causal (n, n) weight over columns 0 … p+t−1, lower-triangular: (t, p+t), for decoding from p cached positions. */
    static Variable decodingRows(Variable weight, int p, int t) {
        return weight.narrow(0, p, t).narrow(1, 0, p + t).tril(p);
    }

    /** (rows, T, 1): 1 where position t − d (d &lt; 0: t + |d|) is in t's run, else 0, in {@code dtype}. */
    Tensor keep(DType dtype, int d) {
        double[] m = new double[rows() * time];
        for (int b = 0; b < rows(); b++) {
            for (int t = 0; t < time; t++) {
                m[b * time + t] = d > 0 ? (local(b, t) >= d ? 1 : 0) : (local(b, t) - d < length(b, t) ? 1 : 0);
            }
        }
        return Tensor.of(m, rows(), time, 1).to(dtype);
    }

    /** v after the k rows before it: the state's (decoding) or zeros, (B, k+T, C). */
    static Variable withPast(Variable v, MixerState state, int k) {
        Tensor[] held = state == null ? null : state.tensors();
        Tensor past = held != null ? held[0] : Tensor.zeros(v.data().device(), v.dtype(), v.size(0), k, v.size(2));
        return Variable.cat(1, Variable.constant(past), v);
    }

    /** v between k zero rows on each side, (B, k+T+k, C). */
    static Variable padded(Variable v, int k) {
        Variable zeros = OnDevice.zeros(v, v.size(0), k, v.size(2));
        return Variable.cat(1, zeros, v, zeros);
    }

    /**
     * Rows t − d (d &lt; 0: t + |d|) of {@code all} = ({@code before} rows, then the T positions, then any after):
     * (B, T, C), zero where t − d falls outside t's run.
     */
    Variable delayed(Variable all, int before, int d, int t) {
        Variable out = all.narrow(1, before - d, t);
        return whole ? out : out.mul(OnDevice.constant(keep(all.dtype(), d), all)); // whole rows: the padding already shifted in zeros
    }

    /** The state keeps the last k rows of {@code all} (k+T rows): O(1) whatever the position. */
    static void advance(MixerState state, Variable all, int t, int k) {
        if (state != null) {
            state.advance(new Tensor[] {all.data().narrow(1, t, k).contiguous()}, t);
        }
    }

    /** {@code f} applied to each run of x (B, T, C) alone, (1, L, C) → (1, L, C), or to x at once for whole rows: (B, T, C). */
    Variable eachRun(Variable x, java.util.function.UnaryOperator<Variable> f) {
        if (whole) {
            return f.apply(x);
        }
        Variable[] rows = new Variable[batch];
        for (int b = 0; b < batch; b++) {
            java.util.List<Variable> runs = new java.util.ArrayList<>();
            for (int t = 0; t < time; t += length(b, t)) {
                runs.add(f.apply(x.narrow(0, b, 1).narrow(1, t, length(b, t))));
            }
            rows[b] = Variable.cat(1, runs.toArray(Variable[]::new));
        }
        return Variable.cat(0, rows);
    }

    /** One entry of a per-run matrix. */
    interface Entry {
        double at(int b, int t, int u);
    }
}
