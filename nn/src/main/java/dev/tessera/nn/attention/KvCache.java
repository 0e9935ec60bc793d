package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * One layer's key/value cache (A8, H6) holding post-RoPE keys and values of shape (B, KV, S, D),
 * KV being the number of key/value heads (before grouped-query expansion).
 * <ul>
 *   <li>{@link #preallocated}: buffers (B, KV, maxT, D) written in place; the stored values are
 *       detached from the graph (inference).</li>
 *   <li>{@link #growing}: concatenates along time, keeping the graph (so gradients may flow
 *       through cached keys, as in Transformer-XL style training).</li>
 * </ul>
 */
public final class KvCache {
    private final int maxT;
    private Tensor keys;
    private Tensor values;
    private Variable growK;
    private Variable growV;
    private int length;
    private int keep = -1; // sliding window: positions kept between appends (W − 1); −1 otherwise
    private Variable tailK;
    private Variable tailV;
    private Recurrent recurrent; // a recurrent token mixer's state held in place of keys/values; null otherwise
    private Recurrent feedForward; // E12: a stateful feed-forward's state (the RWKV channel mix's token shift); null until first used

    /**
     * A recurrent token mixer's per-layer state (issue 17, {@code nn.mixer}), carried through the
     * models' per-layer cache lists in place of keys and values, so generation needs no second list.
     */
    public interface Recurrent {
        /** Number of positions folded into the state. */
        int length();

        /** Back to the zero state. */
        void reset();
    }

    private KvCache(int maxT, Tensor keys, Tensor values) {
        this.maxT = maxT;
        this.keys = keys;
        this.values = values;
    }

    public static KvCache preallocated(int batch, int kvHeads, int maxT, int headDim, DType dtype) {
        if (batch <= 0 || kvHeads <= 0 || maxT <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KvCache: sizes must be positive, got (" + batch + ", " + kvHeads + ", " + maxT + ", "
                    + headDim + ")");
        }
        return new KvCache(maxT, Tensor.zeros(dtype, batch, kvHeads, maxT, headDim), Tensor.zeros(dtype, batch, kvHeads, maxT, headDim));
    }

    public static KvCache growing() {
        return new KvCache(Integer.MAX_VALUE, null, null);
    }

    /**
     * A cache for sliding-window attention with window W (query p sees keys p − W &lt; j ≤ p): each
     * append returns the kept W − 1 positions followed by the new ones, then keeps only the last
     * W − 1 of those, detached from the graph (inference, like {@link #preallocated}).
     */
    public static KvCache slidingWindow(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("KvCache: sliding window must be >= 1, got " + window);
        }
        KvCache c = new KvCache(Integer.MAX_VALUE, null, null);
        c.keep = window - 1;
        return c;
    }

    /** A layer cache that holds a recurrent mixer's state {@code state} instead of keys and values. */
    public static KvCache recurrent(Recurrent state) {
        KvCache c = new KvCache(Integer.MAX_VALUE, null, null);
        c.recurrent = java.util.Objects.requireNonNull(state, "KvCache: recurrent state");
        return c;
    }

    /** The recurrent mixer state, or null for a key/value cache. */
    public Recurrent state() {
        return recurrent;
    }

    /**
     * The layer's feed-forward state beside its attention or mixer state, made by {@code make} on first use and reset with
     * the cache: a feed-forward that reads the previous token (E12's RWKV channel mix, whose token shift needs its last
     * input) decodes from it, whatever the layer's attention keeps.
     */
    public Recurrent feedForwardState(java.util.function.Supplier<? extends Recurrent> make) {
        if (feedForward == null) {
            feedForward = java.util.Objects.requireNonNull(make.get(), "KvCache: feed-forward state");
        }
        return feedForward;
    }

    /** Positions actually held (at most W − 1 for a sliding-window cache, else {@link #length()}). */
    public int stored() {
        return keep < 0 ? length : tailK == null ? 0 : tailK.size(2);
    }

    /** Number of cached positions. */
    public int length() {
        return recurrent != null ? recurrent.length() : length;
    }

    public boolean isPreallocated() {
        return keys != null;
    }

    /** Forgets every cached position (the buffers are kept). */
    public void reset() {
        length = 0;
        if (recurrent != null) {
            recurrent.reset();
        }
        if (feedForward != null) {
            feedForward.reset();
        }
        growK = growV = tailK = tailV = null;
    }

    /** Appends k, v (B, KV, T, D) and returns all cached keys and values (B, KV, length, D). */
    public Variable[] append(Variable k, Variable v) {
        if (recurrent != null) {
            throw new IllegalStateException("KvCache: a recurrent mixer's cache holds a state, not keys and values");
        }
        int t = k.size(2);
        if (length + t > maxT) {
            throw new IllegalStateException("KvCache: appending " + t + " positions to " + length + " exceeds capacity " + maxT);
        }
        if (keys != null) {
            if (k.size(0) != keys.size(0) || k.size(1) != keys.size(1) || k.size(3) != keys.size(3)) {
                throw new IllegalArgumentException("KvCache: keys " + java.util.Arrays.toString(k.shape()) + " do not fit cache "
                        + java.util.Arrays.toString(keys.shape()));
            }
            if (keys.device() != k.data().device()) { // made before the model's device was known: follow the keys once
                keys = keys.to(k.data().device());
                values = values.to(k.data().device());
            }
            try (var scope = GradMode.noGrad()) {
                keys.narrow(2, length, t).copyFromInPlace(k.data());
                values.narrow(2, length, t).copyFromInPlace(v.data());
            }
            length += t;
            return new Variable[] {Variable.constant(keys.narrow(2, 0, length)), Variable.constant(values.narrow(2, 0, length))};
        }
        if (keep >= 0) {
            Variable allK = tailK == null ? k : Variable.cat(2, tailK, k); // (B, KV, kept + T, D)
            Variable allV = tailV == null ? v : Variable.cat(2, tailV, v);
            int n = Math.min(keep, allK.size(2));
            // copies: a view would pin the whole chunk
            tailK = n == 0 ? null : Variable.constant(allK.data().narrow(2, allK.size(2) - n, n).copy());
            tailV = n == 0 ? null : Variable.constant(allV.data().narrow(2, allV.size(2) - n, n).copy());
            length += t;
            return new Variable[] {allK, allV};
        }
        growK = growK == null ? k : Variable.cat(2, growK, k);
        growV = growV == null ? v : Variable.cat(2, growV, v);
        length += t;
        return new Variable[] {growK, growV};
    }
}
