package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sparse mixture of experts with top-k routing (E16), in place of a block's feed-forward: Shazeer et
 * al. 2017, "Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer"; Fedus
 * et al. 2022, "Switch Transformers" (load-balancing loss, expert capacity); Zoph et al. 2022,
 * "ST-MoE" (router z-loss); Jiang et al. 2024, "Mixtral of Experts" (top-2 SwiGLU experts). For each
 * token x (N = B·T tokens, E experts, k chosen):
 * <pre>
 *   z = W_g x                                  router logits, W_g (E, C) = Hugging Face gate.weight
 *   p = softmax(z);  S = the k experts of largest p
 *   g_e = p_e / Σ_{j∈S} p_j  (e ∈ S)          = softmax over the top-k logits (Mixtral; renormalize = true)
 *   g_e = p_e                 (e ∈ S)          (Switch; renormalize = false, the choice for k = 1, whose
 *                                               renormalised gate is the constant 1 and would not train the router)
 *   y = Σ_{e∈S, kept} g_e · E_e(x),   E_e(x) = W2_e (silu(W1_e x) ⊙ W3_e x)       (SwiGLU experts)
 *   L_balance = E · Σ_e f_e P_e,  f_e = (1/N) #{tokens with e ∈ S},  P_e = (1/N) Σ_tokens p_e
 *   L_z = (1/N) Σ_tokens (log Σ_e exp z_e)²
 * </pre>
 * Dispatch is by gathered token blocks, not by a dense mask over every expert: for each expert the
 * tokens routed to it are index-selected into one (n_e, C) block, the expert runs on that block
 * only, and its gated output is scatter-added back to the tokens' rows, so the cost is k token-FFNs
 * per token whatever E is.
 *
 * <p>Expert capacity (Switch): with {@code capacity_factor} c &gt; 0 each expert takes at most
 * ⌈c·k·T/E⌉ (token, expert) assignments per sequence row; assignments are served in position order
 * (a token's choices in rank order), and those over capacity are dropped: they add nothing, so the
 * token passes through the block's residual alone, as the paper says. Serving in position order keeps
 * the layer causal (a token's routing depends on earlier tokens only), but a token-by-token decode
 * (T = 1) never drops, so the full forward equals incremental decoding only when nothing is dropped
 * (c = 0, dropless, the default and Mixtral's choice). The capacity counts a whole row, packed
 * documents included, as Switch counts a whole group.
 *
 * <p>Departure from Hugging Face's {@code SwitchTransformersSparseMLP}: there a dropped token's output
 * is its (normalised) input times its router probability; here it is zero, as in the paper. The
 * auxiliary terms, times {@code aux_loss} and {@code z_loss}, are this layer's {@link Regularizer}
 * term for the last forward, so a trainer adds them per layer (transformers' {@code
 * load_balancing_loss_func} pools the counts of every layer first; for one layer the two agree).
 * Parameters are named as Hugging Face Mixtral's (transformers 5): {@code gate.weight} (E, C),
 * {@code experts.gate_up_proj} (E, 2H, C) and {@code experts.down_proj} (E, C, H).
 */
public final class MixtureOfExperts extends Module implements Layer, Regularizer {

    /**
     * @param experts E ≥ 1
     * @param topK k, 1 ≤ k ≤ E
     * @param hidden each expert's SwiGLU width H; 0 means the model's FFN width divided by k, so the active
     *     parameters per token equal the dense FFN's
     * @param capacityFactor c ≥ 0; 0 is dropless
     * @param auxLoss the load-balancing loss coefficient (Switch: 0.01)
     * @param zLoss the router z-loss coefficient (ST-MoE: 0.001)
     * @param renormalize gates are the softmax over the top-k logits (Mixtral) rather than the full softmax's (Switch)
     */
    public record Options(int experts, int topK, int hidden, double capacityFactor, double auxLoss, double zLoss, boolean renormalize) {
        public Options {
            if (experts < 1 || topK < 1 || topK > experts || hidden < 0) {
                throw new IllegalArgumentException("ffn moe: need experts >= 1, 1 <= top_k <= experts and hidden >= 0, got experts="
                        + experts + " top_k=" + topK + " hidden=" + hidden);
            }
            if (!(capacityFactor >= 0) || !(auxLoss >= 0) || !(zLoss >= 0) || Double.isInfinite(capacityFactor)) {
                throw new IllegalArgumentException("ffn moe: capacity_factor, aux_loss and z_loss must be finite and >= 0, got "
                        + capacityFactor + ", " + auxLoss + ", " + zLoss);
            }
        }

        /** H: {@link #hidden()}, or {@code ffnHidden / k} (at least 1) when it is 0. */
        public int expertHidden(int ffnHidden) {
            return hidden > 0 ? hidden : Math.max(1, ffnHidden / topK);
        }
    }

    /** Hugging Face's {@code MixtralExperts}: every expert's SwiGLU weights stacked along the first dim. */
    static final class Experts extends Module {
        final Variable gateUp; // (E, 2H, C)
        final Variable down; // (E, C, H)

        Experts(int experts, int dim, int hidden, DType dtype, Generator g) {
            // U(±1/√fan_in) per expert, as PyTorch's Linear
            gateUp = parameter("gate_up_proj", Init.uniform(g, -1 / Math.sqrt(dim), 1 / Math.sqrt(dim), experts, 2 * hidden, dim).to(dtype));
            down = parameter("down_proj", Init.uniform(g, -1 / Math.sqrt(hidden), 1 / Math.sqrt(hidden), experts, dim, hidden).to(dtype));
        }
    }

    /** Which (token, rank) assignments each expert serves, after capacity; tokens and ranks index the flat (N, k) choice table. */
    record Dispatch(int[][] tokens, int[][] slots, long[] counts) { }

    private final int dim;
    private final int hidden;
    private final Options options;
    private final Linear gate;
    private final Experts experts;
    private Variable last; // the auxiliary terms of the last forward

    public MixtureOfExperts(int dim, int ffnHidden, Options options, DType dtype, Generator g) {
        Params.checkFloating("MixtureOfExperts", dtype);
        if (dim < 1 || ffnHidden < 1) {
            throw new IllegalArgumentException("MixtureOfExperts: dim and ffnHidden must be positive, got " + dim + ", " + ffnHidden);
        }
        this.dim = dim;
        this.options = options;
        this.hidden = options.expertHidden(ffnHidden);
        this.gate = child("gate", Params.linear(dim, options.experts(), false, g, dtype));
        this.experts = child("experts", new Experts(options.experts(), dim, hidden, dtype, g));
    }

    public Options options() {
        return options;
    }

    /** H, each expert's width. */
    public int expertHidden() {
        return hidden;
    }

    /** x (B, T, C) → (B, T, C); also records the auxiliary terms for {@link #regularization()}. */
    @Override
    public Variable forward(Variable x) {
        if (x.rank() != 3 || x.size(2) != dim) {
            throw new IllegalArgumentException("MixtureOfExperts: expected x (B, T, " + dim + "), got " + Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        int n = b * t;
        int k = options.topK();
        Variable flat = x.reshape(n, dim); // (N, C)
        Variable logits = gate.forward(flat); // (N, E)
        Variable probs = logits.softmax(1); // (N, E)
        Tensor chosen = probs.data().topk(k, 1, true).indices(); // (N, k)
        Variable gates = probs.gather(1, chosen); // (N, k)
        if (options.renormalize()) {
            gates = gates.div(gates.sum(true, 1));
        }
        Dispatch d = dispatch(chosen.toLongArray(), b, t, options.experts(), k, capacity(t));
        last = auxiliary(logits, probs, d.counts(), n);
        Variable gateFlat = gates.reshape(n * k); // (N·k)
        List<Variable> outs = new ArrayList<>();
        List<long[]> rows = new ArrayList<>();
        for (int e = 0; e < options.experts(); e++) {
            if (d.tokens()[e].length == 0) {
                continue;
            }
            long[] tok = Arrays.stream(d.tokens()[e]).asLongStream().toArray();
            Variable block = flat.indexSelect(0, OnDevice.of(Tensor.of(tok, tok.length), flat)); // (n_e, C)
            long[] slots = Arrays.stream(d.slots()[e]).asLongStream().toArray();
            Variable w = gateFlat.indexSelect(0, OnDevice.of(Tensor.of(slots, tok.length), gateFlat)); // (n_e)
            outs.add(expert(block, e).mul(w.unsqueeze(1))); // (n_e, C)
            rows.add(tok);
        }
        if (outs.isEmpty()) {
            return x.mul(0); // every assignment dropped: the residual alone
        }
        Variable gathered = Variable.cat(0, outs.toArray(Variable[]::new)); // (M, C)
        long[] index = rows.stream().flatMapToLong(Arrays::stream).toArray();
        Tensor scatter = OnDevice.of(Tensor.of(index, index.length, 1).expand(index.length, dim).contiguous(), gathered); // (M, C)
        Variable zero = OnDevice.zeros(gathered, n, dim);
        return zero.scatterAdd(0, scatter, gathered).reshape(b, t, dim); // (B, T, C)
    }

    /** Expert e's SwiGLU on a block (n_e, C) → (n_e, C). */
    private Variable expert(Variable block, int e) {
        Variable w = experts.gateUp.select(0, e); // (2H, C)
        Variable h = block.matmul(w.mT()); // (n_e, 2H)
        Variable act = new SwiGluFunction().call(h.narrow(1, 0, hidden), h.narrow(1, hidden, hidden)); // (n_e, H)
        return act.matmul(experts.down.select(0, e).mT()); // (n_e, C)
    }

    /** ⌈c·k·T/E⌉ assignments per expert and row, or {@code Integer.MAX_VALUE} when dropless. */
    int capacity(int t) {
        if (options.capacityFactor() == 0) {
            return Integer.MAX_VALUE;
        }
        return (int) Math.ceil(options.capacityFactor() * options.topK() * t / options.experts());
    }

    /**
     * Groups the (N, k) choices by expert, rows in order and each row's assignments in position then
     * rank order, keeping at most {@code capacity} per expert and row; counts are before capacity (the
     * load-balancing f_e counts what the router asked for, as Switch and transformers do).
     */
    static Dispatch dispatch(long[] chosen, int b, int t, int experts, int k, int capacity) {
        List<List<Integer>> tokens = new ArrayList<>();
        List<List<Integer>> slots = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            tokens.add(new ArrayList<>());
            slots.add(new ArrayList<>());
        }
        long[] counts = new long[experts];
        for (int r = 0; r < b; r++) {
            int[] used = new int[experts];
            for (int s = 0; s < t; s++) {
                int token = r * t + s;
                for (int j = 0; j < k; j++) {
                    int e = (int) chosen[token * k + j];
                    counts[e]++;
                    if (used[e] < capacity) {
                        used[e]++;
                        tokens.get(e).add(token);
                        slots.get(e).add(token * k + j);
                    }
                }
            }
        }
        return new Dispatch(tokens.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new),
                slots.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new), counts);
    }

    /** aux_loss · E·Σ_e f_e P_e + z_loss · mean_tokens (logsumexp z)², a scalar. */
    private Variable auxiliary(Variable logits, Variable probs, long[] counts, int n) {
        int e = counts.length;
        double[] f = new double[e];
        for (int i = 0; i < e; i++) {
            f[i] = (double) counts[i] / n;
        }
        Variable fe = OnDevice.constant(Tensor.of(f, e), probs);
        Variable balance = probs.mean(0).mul(fe).sum().mul(e * options.auxLoss());
        Variable z = logits.logsumexp(false, 1).square().mean().mul(options.zLoss());
        return balance.add(z);
    }

    /** The auxiliary terms of the last forward (zero before any). */
    @Override
    public Variable regularization() {
        return last != null ? last : Variable.constant(Tensor.zeros(DType.F32));
    }
}
