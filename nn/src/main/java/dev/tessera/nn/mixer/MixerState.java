package dev.tessera.nn.mixer;

import dev.tessera.nn.attention.KvCache;
import dev.tessera.tensor.Tensor;

/**
 * One layer's recurrent state for a {@link TokenMixer}: whatever fixed-size tensors the mixer keeps
 * (for {@link Lru} the complex hidden state as real and imaginary parts), and how many positions
 * they summarise. Allocated lazily by the mixer on first use, so the models need not know its
 * shape; it travels in the models' per-layer cache list as {@link KvCache#recurrent}.
 */
public final class MixerState implements KvCache.Recurrent {
    private Tensor[] tensors;
    private int length;

    /** The held tensors, or null before the first token. */
    public Tensor[] tensors() {
        return tensors;
    }

    /** Replaces the held tensors with {@code next} (detached), {@code steps} more positions summarised. */
    public void advance(Tensor[] next, int steps) {
        tensors = next;
        length += steps;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void reset() {
        tensors = null;
        length = 0;
    }

    /** The state of a layer cache made by {@link KvCache#recurrent}, or a one-line error for a key/value cache. */
    public static MixerState of(KvCache cache) {
        if (cache == null) {
            return null;
        }
        if (!(cache.state() instanceof MixerState s)) {
            throw new IllegalArgumentException("mixer: the layer's cache holds keys/values, not a recurrent state (use KvCache.recurrent)");
        }
        return s;
    }
}
