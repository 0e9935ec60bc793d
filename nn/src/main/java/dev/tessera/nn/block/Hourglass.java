package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Hourglass (B27; Nawrot et al. 2022, "Hierarchical Transformers Are More Efficient Language
 * Models"): a decoder whose middle layers run on a sequence shortened by a factor k. With the L
 * layers split as pre@1, shortened@k, post@1 (the paper's notation for one level):
 * <pre>
 *   h  = PreLayers(x)                                   (B, T, C)    full length
 *   h' = ShiftRight(h, k − 1)                           (B, T, C)    k − 1 zero rows in front: keeps it causal
 *   s_j = Shorten(h'_{jk}, …, h'_{jk+k−1})              (B, T/k, C)  AVG: (1/k)·Σ_r h'_{jk+r};  LINEAR: W_d·[h'_{jk}; …; h'_{jk+k−1}]
 *   s  = ShortenedLayers(s)                             (B, T/k, C)  causal over shortened tokens
 *   u_{jk+r} = Upsample(s_j)_r                          (B, T, C)    REPEAT: s_j;  LINEAR: (W_u·s_j) split into k rows, row r
 *   y  = PostLayers(h + u)                              (B, T, C)    the pre-shortening residual, then full length again
 * </pre>
 * Shortened token j pools original positions jk − k + 1 … jk and feeds outputs jk … jk + k − 1,
 * so no output sees a later token. When k does not divide T the paper (which trains at lengths k
 * divides) is silent; here the shortened sequence has ⌈T/k⌉ tokens, token j always pooling
 * positions jk − k + 1 … jk (zeros before 0), so a position's output does not depend on how many
 * tokens follow it, and full and incremental decoding agree.
 *
 * <p><b>Incremental decoding.</b> With KV caches (one per layer; the shortened layers' caches hold
 * ⌈P/k⌉ shortened tokens after P positions) a step runs the pre layers, completes a shortened
 * token whenever a position jk arrives (from the k − 1 kept pre-layer rows before it), runs the
 * shortened layers on it and keeps its k upsampled rows for positions jk … jk + k − 1. That
 * stream state lives here, keyed by the first cache of the list; a prefill (P = 0) starts it
 * afresh, so {@code KvCache.reset()} followed by a prefill is a new stream.
 *
 * <p><b>Document masks</b> (packed training): shortened token j carries the document id of
 * position jk. A pooling window or upsampled span that straddles a document boundary mixes the
 * neighbouring document in (causally: only earlier positions), which the paper, training without
 * packing masks, does not address. Attention pooling/upsampling (the paper's third variant) is
 * not implemented. Linear pooling is {@code down_proj} (k·C → C), linear upsampling
 * {@code up_proj} (C → k·C).
 */
public final class Hourglass extends Module {

    /** How k rows become one. */
    public enum Shortening { AVG, LINEAR }

    /** How one row becomes k. */
    public enum Upsampling { REPEAT, LINEAR }

    /**
     * One hourglass level, written {@code pre@1,shortened@k,post@1[/shortening/upsampling]} as
     * in the paper, e.g. {@code 1@1,2@2,1@1/linear/linear}; shortening avg and upsampling repeat
     * by default.
     */
    public record Options(int preLayers, int shortenedLayers, int postLayers, int factor, Shortening shortening, Upsampling upsampling) {
        public Options {
            if (preLayers < 0 || shortenedLayers < 1 || postLayers < 0 || factor < 2 || shortening == null || upsampling == null) {
                throw new IllegalArgumentException("hourglass: need pre >= 0, shortened >= 1, post >= 0 layers, factor k >= 2 and both"
                        + " methods, got " + preLayers + "@1," + shortenedLayers + "@" + factor + "," + postLayers + "@1/" + shortening
                        + "/" + upsampling);
            }
        }

        public int layers() {
            return preLayers + shortenedLayers + postLayers;
        }

        /** Whether layer l (0-based) runs on the shortened sequence. */
        public boolean shortened(int layer) {
            return layer >= preLayers && layer < preLayers + shortenedLayers;
        }

        /** Parses {@code pre@1,shortened@k,post@1[/avg|linear[/repeat|linear]]}; a one-line error otherwise. */
        public static Options parse(String spec) {
            String form = "expected pre@1,shortened@k,post@1[/avg|linear[/repeat|linear]], e.g. 1@1,2@2,1@1/linear/linear";
            if (spec == null) {
                throw new IllegalArgumentException("hourglass: " + form + ", got null");
            }
            String[] parts = spec.strip().split("/", -1);
            String[] levels = parts[0].split(",", -1);
            if (levels.length != 3 || parts.length > 3) {
                throw new IllegalArgumentException("hourglass: '" + spec + "': " + form);
            }
            int[] n = new int[3];
            int[] f = new int[3];
            for (int i = 0; i < 3; i++) {
                String[] lf = levels[i].strip().split("@", -1);
                try {
                    if (lf.length != 2) {
                        throw new NumberFormatException();
                    }
                    n[i] = Integer.parseInt(lf[0].strip());
                    f[i] = Integer.parseInt(lf[1].strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("hourglass: '" + spec + "': " + form);
                }
            }
            if (f[0] != 1 || f[2] != 1) {
                throw new IllegalArgumentException("hourglass: '" + spec + "': the outer levels run at full length (@1); one shortened"
                        + " level is supported");
            }
            Shortening s = parts.length > 1 ? method(spec, parts[1], Shortening.class) : Shortening.AVG;
            Upsampling u = parts.length > 2 ? method(spec, parts[2], Upsampling.class) : Upsampling.REPEAT;
            return new Options(n[0], n[1], n[2], f[1], s, u);
        }

        private static <E extends Enum<E>> E method(String spec, String name, Class<E> type) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(name.strip())) {
                    return e;
                }
            }
            throw new IllegalArgumentException("hourglass: '" + spec + "': " + type.getSimpleName().toLowerCase(Locale.ROOT) + " '"
                    + name + "' is not one of " + java.util.Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                    .toList());
        }

        /** The form {@link #parse} reads. */
        @Override
        public String toString() {
            return preLayers + "@1," + shortenedLayers + "@" + factor + "," + postLayers + "@1/" + shortening.name().toLowerCase(Locale.ROOT)
                    + "/" + upsampling.name().toLowerCase(Locale.ROOT);
        }
    }

    /** The model's layer l applied to x with its mask and cache (null when not caching). */
    @FunctionalInterface
    public interface Layers {
        Variable forward(int layer, Variable x, AttentionMask mask, KvCache cache);
    }

    /** What a cached stream carries between calls: the last k − 1 pre-layer rows and the upsampled rows of the last shortened token. */
    private static final class Stream {
        int length;
        Variable tail; // (B, k − 1, C)
        Variable current; // (B, k, C), or null before the first shortened token
    }

    private final Options options;
    private final int dim;
    private final Linear down;
    private final Linear up;
    private final Map<KvCache, Stream> streams = new WeakHashMap<>();

    public Hourglass(Options options, int dim, boolean bias, Generator g, DType dtype) {
        if (options == null || dim <= 0) {
            throw new IllegalArgumentException("Hourglass: need options and dim > 0, got " + options + ", dim=" + dim);
        }
        this.options = options;
        this.dim = dim;
        int k = options.factor();
        down = options.shortening() == Shortening.LINEAR ? child("down_proj", Params.linear(k * dim, dim, bias, g, dtype)) : null;
        up = options.upsampling() == Upsampling.LINEAR ? child("up_proj", Params.linear(dim, k * dim, bias, g, dtype)) : null;
    }

    public Options options() {
        return options;
    }

    /** Shortened tokens after {@code positions} positions: ⌈positions / k⌉. */
    public int shortenedLength(int positions) {
        return Math.ceilDiv(positions, options.factor());
    }

    /**
     * Pools m consecutive windows of k rows: w (B, m·k, C) → (B, m, C); row j of the result pools
     * rows jk … jk + k − 1 (already shifted, so those are positions jk − k + 1 … jk).
     */
    public Variable shorten(Variable w) {
        int b = w.size(0);
        int k = options.factor();
        int m = w.size(1) / k;
        if (w.rank() != 3 || w.size(1) % k != 0 || w.size(2) != dim) {
            throw new IllegalArgumentException("Hourglass.shorten: expected (B, m·" + k + ", " + dim + "), got "
                    + java.util.Arrays.toString(w.shape()));
        }
        Variable windows = w.reshape(b, m, k, dim); // (B, m, k, C)
        return down == null ? windows.mean(2) : down.forward(windows.reshape(b, m, k * dim)); // (B, m, C)
    }

    /** s (B, m, C) → (B, m·k, C): row jk + r is REPEAT s_j, or row r of LINEAR W_u·s_j. */
    public Variable upsample(Variable s) {
        int b = s.size(0);
        int m = s.size(1);
        int k = options.factor();
        if (up != null) {
            return up.forward(s).reshape(b, m * k, dim); // (B, m·k, C)
        }
        return s.unsqueeze(2).expand(b, m, k, dim).reshape(b, m * k, dim); // (B, m·k, C)
    }

    /**
     * Runs all layers on x (B, T, C), the middle ones shortened. {@code caches} is null, or one per
     * layer with the new tokens at positions {@code past} … past + T − 1.
     */
    public Variable forward(Variable x, Layers layers, AttentionMask mask, List<KvCache> caches, int past) {
        Options o = options;
        int k = o.factor();
        int b = x.size(0);
        int t = x.size(1);
        Stream stream = stream(caches, past, b, x);
        Variable h = x;
        for (int l = 0; l < o.preLayers(); l++) {
            h = layers.forward(l, h, mask, cache(caches, l)); // (B, T, C)
        }
        Variable tail = stream == null ? OnDevice.zeros(x, b, k - 1, dim) : stream.tail;
        Variable ext = Variable.cat(1, tail, h); // positions past − k + 1 … past + T − 1: (B, k − 1 + T, C)
        int first = shortenedLength(past); // the first shortened token completed now: j0 = ⌈P/k⌉
        int m = shortenedLength(past + t) - first; // tokens j with past ≤ jk ≤ past + T − 1
        Variable u = null; // upsampled rows for positions past … past + T − 1
        Variable newest = stream == null ? null : stream.current;
        if (past % k != 0 && newest != null) { // positions before j0·k still read the last token's rows
            int r = past - (first - 1) * k;
            u = newest.narrow(1, r, Math.min(k - r, t));
        }
        if (m > 0) {
            Variable s = shorten(ext.narrow(1, first * k - past, m * k)); // (B, m, C)
            AttentionMask sm = shortenedMask(mask, past + t);
            for (int l = o.preLayers(); l < o.preLayers() + o.shortenedLayers(); l++) {
                s = layers.forward(l, s, sm, cache(caches, l)); // (B, m, C)
            }
            Variable rows = upsample(s); // positions first·k … (first + m)·k − 1: (B, m·k, C)
            int need = past + t - first * k;
            u = u == null ? rows.narrow(1, 0, need) : Variable.cat(1, u, rows.narrow(1, 0, need));
            newest = rows.narrow(1, (m - 1) * k, k);
        }
        if (stream != null) {
            stream.tail = Variable.constant(ext.data().narrow(1, t, k - 1).copy());
            stream.current = newest == null ? null : Variable.constant(newest.data().copy());
            stream.length = past + t;
        }
        Variable y = h.add(u); // (B, T, C)
        for (int l = o.preLayers() + o.shortenedLayers(); l < o.layers(); l++) {
            y = layers.forward(l, y, mask, cache(caches, l)); // (B, T, C)
        }
        return y;
    }

    private static KvCache cache(List<KvCache> caches, int layer) {
        return caches == null ? null : caches.get(layer);
    }

    private Stream stream(List<KvCache> caches, int past, int batch, Variable x) {
        if (caches == null) {
            return null;
        }
        KvCache key = caches.get(0);
        Stream s = streams.get(key);
        if (past == 0) {
            s = new Stream();
            s.tail = OnDevice.zeros(x, batch, options.factor() - 1, dim);
            streams.put(key, s);
        } else if (s == null || s.length != past) {
            throw new IllegalStateException("Hourglass: these caches hold " + past + " positions but their hourglass stream holds "
                    + (s == null ? "none" : s.length) + "; decode one cache list from a prefill at position 0");
        }
        return s;
    }

    /** The mask of the shortened layers: causal as given; a document mask keeps the id of each token's last position jk. */
    private AttentionMask shortenedMask(AttentionMask mask, int positions) {
        Tensor ids = mask.documentIds();
        if (ids == null) {
            return mask.queryOffset() == 0 ? mask : new AttentionMask(mask.causal(), null, 0);
        }
        if (ids.size(1) != positions) {
            throw new IllegalArgumentException("Hourglass: a document mask must cover all " + positions + " positions, got "
                    + java.util.Arrays.toString(ids.shape()));
        }
        int n = shortenedLength(positions);
        long[] index = new long[n];
        for (int j = 0; j < n; j++) {
            index[j] = (long) j * options.factor();
        }
        return new AttentionMask(mask.causal(), ids.indexSelect(1, Tensor.of(index, n)), 0);
    }
}
