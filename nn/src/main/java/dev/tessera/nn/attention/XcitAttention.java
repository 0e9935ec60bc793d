package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Cross-covariance attention, XCA (B22): El-Nouby, Touvron, Caron, Bojanowski, Douze, Joulin,
 * Laptev, Neverova, Synnaeve, Verbeek, Jégou, "XCiT: Cross-Covariance Image Transformers",
 * NeurIPS 2021, §3.2. Attention runs over the D channels of a head instead of the T tokens: the
 * attention map is the D × D cross-covariance of keys and queries, so the cost is O(T·D²), linear
 * in the sequence length. With Q, K, V ∈ ℝ^{T × D} one head's projections (columns = channels):
 *
 * <pre>
 *   Q̂ = Q / ‖Q‖_col,  K̂ = K / ‖K‖_col           (each channel L2-normalised along the tokens, ε = 1e-12)
 *   A_XC = softmax_j( τ_h · (Q̂ᵀ K̂)_{ij} )        (D × D; row i = output channel, softmax over key channels j)
 *   XCA(Q, K, V) = V · A_XCᵀ,   i.e. out[t, i] = Σ_j A_XC[i, j] · V[t, j]
 * </pre>
 *
 * The paper writes A_XC(K, Q) = softmax(K̂ᵀ Q̂ / τ) and out = V·A_XC; this class follows timm's
 * {@code models.xcit:XCA} (the authors' code), which holds the per-head parameter
 * {@code temperature} (H, 1, 1) as the multiplier (the paper's 1/τ), initialised to 1, and
 * computes softmax(Q̂ K̂ᵀ·temperature) in its (D × T) layout, the transpose of the paper's matrix
 * with the softmax over key channels. Same parameter name and shape, so checkpoints line up. The
 * normalisation is x / max(‖x‖, ε), torch's {@code F.normalize}.
 *
 * <p>Bidirectional only: every output token depends on every token through the column norms and
 * Q̂ᵀK̂, so there is no causal or incremental form. A causal or document mask is refused, as are
 * cached keys (S ≠ T), each with a one-line error; {@link AttentionKind#causal()} (false) lets
 * the causal decoders refuse the kind. Computed in the inputs' dtype (the F32 parameter is cast).
 */
public final class XcitAttention extends Module implements AttentionKernel {
    private final int heads;
    private final Variable temperature;

    /** @param heads H; the parameter {@code temperature} (H, 1, 1) starts at 1 in every head, as in timm */
    public XcitAttention(int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("XcitAttention: heads must be positive, got " + heads);
        }
        this.heads = heads;
        this.temperature = parameter("temperature", Tensor.full(1.0, DType.F32, heads, 1, 1));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("XcitAttention", q, k, v, mask, heads, 0);
        return attend(q, k, v, temperature.to(q.dtype()), mask);
    }

    /**
     * The kernel as a function of the temperature ((H, 1, 1) in the inputs' dtype), so its gradient
     * can be checked like any input's. q, k, v (B, H, T, D) with v's head size equal to q's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable temperature, AttentionMask mask) {
        KernelSupport.checkShapes("XcitAttention", q, k, v, mask);
        if (mask.causal() || mask.documentIds() != null) {
            throw new IllegalArgumentException("XcitAttention: cross-covariance attention is bidirectional only; it takes no "
                    + (mask.causal() ? "causal" : "document") + " mask (use AttentionMask.NONE)");
        }
        if (k.size(2) != q.size(2) || v.size(3) != q.size(3)) {
            throw new IllegalArgumentException("XcitAttention: needs as many keys as queries (no KV cache) and v's head size equal to q's, got T "
                    + q.size(2) + ", S " + k.size(2) + ", D " + q.size(3) + ", Dv " + v.size(3));
        }
        Variable qn = CosineAttention.normalize(q.mT()); // (B, H, D, T), each channel unit-norm over the tokens
        Variable kn = CosineAttention.normalize(k.mT()); // (B, H, D, T)
        Variable a = qn.matmul(kn.mT()).mul(temperature).softmax(-1); // (B, H, D, D): A_XC[i, j]
        return v.matmul(a.mT()); // (B, H, T, D): out[t, i] = Σ_j A[i, j] v[t, j]
    }
}
