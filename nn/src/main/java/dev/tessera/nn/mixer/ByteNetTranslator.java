package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E26: ByteNet's source–target network with dynamic unfolding (Kalchbrenner, Espeholt, Simonyan,
 * van den Oord, Graves, Kavukcuoglu 2016, "Neural Machine Translation in Linear Time", §3.1–§3.3):
 * an encoder of residual blocks with non-masked dilated convolutions over the source, and the
 * {@link ByteNet} decoder (masked dilated convolutions) stacked on it.
 *
 * <pre>
 * Dimensions: B batch, S = |s| source length, T target steps, C the embedding width, V the vocabulary,
 * k the filter width, r_u the dilation of unit u.
 *
 *   |t̂| = ⌊a·|s| + b⌋                                   the estimated target length (§3.2; a = 1.20, b = 0 for En–De)
 *   e⁰ = E_s[s];  eᵘ = eᵘ⁻¹ + Block_u(eᵘ⁻¹)            (B, S, C)  encoder, Block as {@link ByteNet}'s with the
 *        c_t = Σ_{j=0}^{k−1} W_j a_{t + (j − (k−1)/2)·r_u} + b_c     centred (non-masked) dilated conv, k odd
 *   z_t = e_t for t &lt; min(|s|, |t̂|), else 0            (B, T, C)  the source representation, zero-padded beyond |s|
 *                                                                  up to |t̂| and zero again past |t̂|
 *   x_t = [E_t[u_t] ; z_t]                               (B, T, 2C) u_0 = BOS, u_t = y_{t−1}: target embedding ‖ column t
 *   h = x + ByteNet(x);   p(y_t | y_&lt;t, s) = softmax(W_o LN(h_t) + b_o)       (B, T, V)
 * </pre>
 *
 * <b>Dynamic unfolding.</b> The decoder reads one column of the source representation per step and
 * unfolds until it emits EOS ({@link #greedy}), possibly past |t̂|, where its conditioning column is
 * zero; training is teacher forced ({@link #forward}) and equals step-by-step unfolding
 * ({@link Unfolding#next}), which holds the decoder's O(1) windows in a {@link MixerState} and the
 * encoder's output once. The encoder runs over the |s| source positions only (its representation is
 * zero-padded to |t̂| afterwards, as the paper's "zero-padded on the fly"); all rows of a batch share
 * |s|. The output layer (LN, then a 1×1 projection to V) is this file's choice; the paper says only
 * that the target network's output is a softmax over the vocabulary. Parameters:
 * {@code source_embed.weight}, {@code target_embed.weight}, {@code encoder.unit<u>.*},
 * {@code decoder.unit<u>.*} (as {@link ByteNet}), {@code ln_out.*}, {@code head.*}. A module API
 * (train with {@link #forward} and a cross-entropy, translate with {@link #greedy}); there is no CLI
 * translation command.
 */
public final class ByteNetTranslator extends Module {

    /**
     * @param vocab V, shared by source and target (e.g. 256 bytes + BOS + EOS)
     * @param dim C, the embedding and encoder width (the decoder runs at 2C)
     * @param encoder the encoder's blocks (width k odd, centred)
     * @param decoder the decoder's blocks (masked); hidden 0 means C, the paper's d for 2d channels
     * @param a the slope of |t̂| = a|s| + b, a ≥ 0
     * @param b the offset, with a|s| + b ≥ 0 meant
     * @param bos the token fed at step 0
     * @param eos the token that ends unfolding
     */
    public record Config(int vocab, int dim, ByteNet.Options encoder, ByteNet.Options decoder, double a, double b, int bos, int eos) {
        public Config {
            if (vocab < 2 || dim < 1 || encoder == null || decoder == null || encoder.width() % 2 == 0 || !(a >= 0) || Double.isNaN(b)
                    || bos < 0 || bos >= vocab || eos < 0 || eos >= vocab) {
                throw new IllegalArgumentException("ByteNetTranslator: need vocab >= 2, dim >= 1, an odd encoder width, a >= 0 and bos, eos"
                        + " in 0..vocab-1, got vocab=" + vocab + " dim=" + dim + " encoder=" + encoder + " a=" + a + " b=" + b + " bos="
                        + bos + " eos=" + eos);
            }
        }

        /** The same network with another |t̂| rule. */
        public Config withLengthRule(double a, double b) {
            return new Config(vocab, dim, encoder, decoder, a, b, bos, eos);
        }
    }

    /** The encoder's residual blocks, named {@code unit<u>}. */
    private static final class Encoder extends Module {
        final ByteNet.Unit[] units;

        Encoder(int c, ByteNet.Options o, DType dtype, Generator g) {
            int h = o.hidden() == 0 ? Math.max(1, c / 2) : o.hidden();
            int perStack = Integer.numberOfTrailingZeros(o.maxDilation()) + 1;
            units = new ByteNet.Unit[perStack * o.stacks()];
            for (int u = 0; u < units.length; u++) {
                units[u] = child("unit" + u, new ByteNet.Unit(c, h, o.width(), 1 << (u % perStack), dtype, g));
            }
        }
    }

    private final Config config;
    private final Variable sourceEmbed;
    private final Variable targetEmbed;
    private final Encoder encoder;
    private final ByteNet decoder;
    private final LayerNorm lnOut;
    private final Linear head;

    public ByteNetTranslator(Config config, DType dtype, Generator g) {
        this.config = config;
        int c = config.dim();
        sourceEmbed = child("source_embed", new Group()).add("weight", Init.normal(g, 1, config.vocab(), c).to(dtype)); // (V, C)
        targetEmbed = child("target_embed", new Group()).add("weight", Init.normal(g, 1, config.vocab(), c).to(dtype)); // (V, C)
        encoder = child("encoder", new Encoder(c, config.encoder(), dtype, g));
        decoder = child("decoder", new ByteNet(2 * c, config.decoder(), dtype, g)); // hidden 0: C, half the decoder's 2C
        lnOut = child("ln_out", new LayerNorm(2 * c, 1e-5, true, true, dtype));
        head = child("head", new Linear(2 * c, config.vocab(), true, Tensor.randn(g, dtype, config.vocab(), 2 * c).mul(1 / Math.sqrt(2 * c))));
    }

    public Config config() {
        return config;
    }

    /** |t̂| = ⌊a·|s| + b⌋, at least 0. */
    public int estimatedLength(int sourceLength) {
        return (int) Math.max(0, Math.floor(config.a() * sourceLength + config.b()));
    }

    /** The encoder's representation e (B, S, C) of the source ids (B, S). */
    public Variable encode(Tensor source) {
        if (source.rank() != 2 || source.size(1) == 0 || source.dtype().isFloating()) {
            throw new IllegalArgumentException("ByteNetTranslator: source must be integer ids (B, S) with S >= 1, got " + source.dtype() + " "
                    + java.util.Arrays.toString(source.shape()));
        }
        Variable e = sourceEmbed.embedding(source); // (B, S, C)
        for (ByteNet.Unit unit : encoder.units) {
            e = unit.residual(e, centredConv(unit.convInput(e), unit.convW, unit.convB, unit.dilation));
        }
        return e;
    }

    /**
     * The non-masked dilated convolution of a (B, S, H): c_t = Σ_j W[:, :, j] a_{t + (j − (k−1)/2)·r} + b,
     * zero outside 0..S−1 (PyTorch's {@code Conv1d(dilation=r, padding=(k−1)/2·r)}, compared with it by
     * {@code ByteNetTranslatorTest} through nn/tools/golden_e26_bytenet_encoder_conv.py), k odd.
     */
    static Variable centredConv(Variable a, Variable weight, Variable bias, int dilation) {
        int side = (weight.size(2) - 1) / 2 * dilation;
        if (side == 0) {
            return ByteNet.dilatedConv(a, weight, bias, dilation, a.size(1), null);
        }
        Variable zeros = OnDevice.zeros(a, a.size(0), side, a.size(2));
        return ByteNet.dilatedConv(Variable.cat(1, zeros, a, zeros), weight, bias, dilation, a.size(1), null);
    }

    /** Columns from … from+n−1 of the source representation (B, n, C): e_t below min(|s|, |t̂|), zero beyond. */
    private Variable conditioning(Variable e, int from, int n) {
        int limit = Math.min(e.size(1), estimatedLength(e.size(1)));
        int real = Math.max(0, Math.min(from + n, limit) - from);
        Variable zeros = real == n ? null : OnDevice.zeros(e, e.size(0), n - real, e.size(2));
        if (real == 0) {
            return zeros;
        }
        Variable cols = e.narrow(1, from, real);
        return zeros == null ? cols : Variable.cat(1, cols, zeros);
    }

    /** Decoder steps from..from+n−1 on target inputs (B, n) with the representation e and the decoder's state (null: from zero). */
    private Variable decode(Variable e, Tensor targetIn, int from, MixerState state) {
        if (targetIn.rank() != 2 || targetIn.size(0) != e.size(0) || targetIn.size(1) == 0 || targetIn.dtype().isFloating()) {
            throw new IllegalArgumentException("ByteNetTranslator: target inputs must be integer ids (" + e.size(0) + ", T) with T >= 1, got "
                    + targetIn.dtype() + " " + java.util.Arrays.toString(targetIn.shape()));
        }
        Variable x = Variable.cat(2, targetEmbed.embedding(targetIn), conditioning(e, from, targetIn.size(1))); // (B, n, 2C)
        Variable h = x.add(decoder.forward(x, null, state));
        return head.forward(lnOut.forward(h)); // (B, n, V)
    }

    /**
     * Teacher-forced logits (B, T, V) for source ids (B, S) and target inputs (B, T), u_0 = BOS and
     * u_t = y_{t−1}: logits at t predict y_t.
     */
    public Variable forward(Tensor source, Tensor targetIn) {
        return decode(encode(source), targetIn, 0, null);
    }

    /** Starts dynamic unfolding: encodes the source once; the decoder begins from the zero state. */
    public Unfolding start(Tensor source) {
        return new Unfolding(encode(source).detach());
    }

    /** A batch of sources being unfolded: the encoder's output, computed once, and the decoder's O(1) windows. */
    public final class Unfolding {
        private final Variable e;
        private final MixerState state = new MixerState();

        private Unfolding(Variable e) {
            this.e = e;
        }

        /** Steps done so far. */
        public int position() {
            return state.length();
        }

        /** Logits (B, n, V) for the next n target inputs (B, n), in order after those given before. */
        public Variable next(Tensor targetIn) {
            return decode(e, targetIn, state.length(), state);
        }
    }

    /**
     * Greedy dynamic unfolding for source ids (B, S): from BOS, feed back each step's argmax until
     * every row has emitted EOS or {@code maxLength} steps are done. Returns each row's tokens
     * before its EOS (all {@code maxLength} if it never came); may run past |t̂|.
     */
    public long[][] greedy(Tensor source, int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("ByteNetTranslator: max length must be >= 1, got " + maxLength);
        }
        int rows = source.size(0);
        Unfolding u = start(source);
        long[][] out = new long[rows][];
        long[][] buf = new long[rows][maxLength];
        long[] input = new long[rows];
        java.util.Arrays.fill(input, config.bos());
        int done = 0;
        for (int step = 0; step < maxLength && done < rows; step++) {
            Tensor logits = u.next(Tensor.of(input, rows, 1)).data(); // (B, 1, V)
            for (int r = 0; r < rows; r++) {
                long best = argmax(logits, r);
                input[r] = best;
                if (out[r] == null) {
                    if (best == config.eos()) {
                        out[r] = java.util.Arrays.copyOf(buf[r], step);
                        done++;
                    } else {
                        buf[r][step] = best;
                    }
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            out[r] = out[r] == null ? buf[r] : out[r];
        }
        return out;
    }

    private long argmax(Tensor logits, int row) {
        int best = 0;
        for (int v = 1; v < config.vocab(); v++) {
            best = logits.getDouble(row, 0, v) > logits.getDouble(row, 0, best) ? v : best;
        }
        return best;
    }

    @Override
    public String toString() {
        return "ByteNetTranslator(V=" + config.vocab() + ", C=" + config.dim() + ", encoder=" + encoder.units.length + " units, decoder="
                + decoder + ", |t̂| = " + config.a() + "|s| + " + config.b() + ")";
    }
}
