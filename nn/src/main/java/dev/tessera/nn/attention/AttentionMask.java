package dev.tessera.nn.attention;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which keys each query may see (A9). Query t (0-based among the T queries) sits at absolute
 * position {@code queryOffset + t}; key s at position s. Causal: s ≤ position. Document mask
 * (Llama 3 packing): query and key must also carry the same document id, so packed documents do
 * not attend across their boundaries.
 *
 * @param causal whether future keys are hidden
 * @param documentIds (B, S) integer ids per key position, or null for no document mask; the
 *     queries' ids are the last T columns
 * @param queryOffset absolute position of the first query (S − T when decoding with a cache)
 */
public record AttentionMask(boolean causal, Tensor documentIds, int queryOffset) {
    public AttentionMask {
        if (queryOffset < 0) {
            throw new IllegalArgumentException("AttentionMask: queryOffset must be >= 0, got " + queryOffset);
        }
        if (documentIds != null && (documentIds.rank() != 2 || documentIds.dtype().isFloating())) {
            throw new IllegalArgumentException("AttentionMask: documentIds must be an integer (B, S) tensor, got "
                    + documentIds.dtype() + " " + java.util.Arrays.toString(documentIds.shape()));
        }
    }

    public static final AttentionMask NONE = new AttentionMask(false, null, 0);

    public static AttentionMask causalOnly() {
        return new AttentionMask(true, null, 0);
    }

    public boolean masksAnything() {
        return causal || documentIds != null;
    }

    /** Whether query t may attend to key s (batch row b), for kernels that test positions one by one. */
    public boolean allowed(int b, int t, int s, int queries, int keys) {
        int position = queryOffset + t;
        if (causal && s > position) {
            return false;
        }
        if (documentIds != null) {
            long q = documentIds.getLong(b, keys - queries + t);
            return documentIds.getLong(b, s) == q;
        }
        return true;
    }

    /**
     * BOOL (B or 1, 1, T, S) on {@code device}: true where attention is allowed, so module code that
     * mixes it with device scores stays on one device. A document-free mask depends only on its
     * shape, and every layer of every step asks for the same one: off the CPU it is moved once and
     * reused (the last {@value #CACHED} kept), so callers must not write into it.
     */
    public Tensor allowedMatrix(Device device, int batch, int queries, int keys) {
        if (device == Device.CPU || documentIds != null) {
            return allowedMatrix(batch, queries, keys).to(device);
        }
        List<Object> key = List.of(device, causal, queryOffset, queries, keys);
        synchronized (ON_DEVICE) {
            return ON_DEVICE.computeIfAbsent(key, k -> allowedMatrix(1, queries, keys).to(device));
        }
    }

    private static final int CACHED = 8;

    /** Document-free masks already moved to a device, by (device, causal, queryOffset, T, S), least recently used first. */
    private static final Map<List<Object>, Tensor> ON_DEVICE = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, Tensor> eldest) {
            return size() > CACHED;
        }
    };

    /** BOOL (B or 1, 1, T, S) on the host: true where attention is allowed (for code on host views, e.g. a custom function). */
    public Tensor allowedMatrix(int batch, int queries, int keys) {
        int rows = documentIds == null ? 1 : batch;
        byte[] m = new byte[rows * queries * keys];
        long[] ids = documentIds == null ? null : documentIds.toLongArray(); // (B, S), read once
        int idCols = documentIds == null ? 0 : documentIds.size(1);
        for (int b = 0; b < rows; b++) {
            for (int t = 0; t < queries; t++) {
                int position = queryOffset + t;
                long q = ids == null ? 0 : ids[b * idCols + keys - queries + t];
                for (int s = 0; s < keys; s++) {
                    boolean ok = (!causal || s <= position) && (ids == null || ids[b * idCols + s] == q);
                    m[(b * queries + t) * keys + s] = (byte) (ok ? 1 : 0);
                }
            }
        }
        return Tensor.of(dev.tessera.tensor.Storage.wrap(DType.BOOL, m), rows, 1, queries, keys);
    }

    /**
     * This mask re-anchored on the keys a cache returned: the T queries are the last T of the S
     * keys, so queryOffset = S − T, and document ids wider than S (a sliding-window cache keeps
     * only the most recent keys) are cut to their last S columns. Relative positions are what
     * causal and windowed masks test, so they are unchanged.
     */
    public AttentionMask forCachedKeys(int queries, int keys) {
        Tensor ids = documentIds != null && documentIds.size(1) > keys
                ? documentIds.narrow(1, documentIds.size(1) - keys, keys) : documentIds;
        return ids == documentIds && queryOffset == keys - queries ? this : new AttentionMask(causal, ids, keys - queries);
    }
}
