package dev.tessera.nn.block;

import dev.tessera.nn.Module;
import java.util.AbstractList;
import java.util.List;

/**
 * Cross-layer parameter sharing (A15; ALBERT, Lan et al. 2019): one block's parameters used
 * for all L layers, x_{l+1} = f_θ(x_l) with the same θ for every l. The block is registered once
 * (as child {@code 0}), so {@code namedParameters()} lists each shared parameter once and the
 * parameter count is that of one block; {@link #layers()} presents it L times.
 */
public final class SharedLayers<M extends Module> extends Module {
    private final M block;
    private final int depth;

    public SharedLayers(M block, int depth) {
        if (block == null || depth <= 0) {
            throw new IllegalArgumentException("SharedLayers: need a block and depth > 0, got depth=" + depth);
        }
        this.block = child("0", block);
        this.depth = depth;
    }

    public int depth() {
        return depth;
    }

    public M block() {
        return block;
    }

    /** The block, {@code depth} times (read-only). */
    public List<M> layers() {
        return new AbstractList<>() {
            @Override
            public M get(int index) {
                java.util.Objects.checkIndex(index, depth);
                return block;
            }

            @Override
            public int size() {
                return depth;
            }
        };
    }
}
