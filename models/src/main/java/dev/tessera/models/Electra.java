package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * The ELECTRA discriminator (Clark et al. 2020, "ELECTRA: Pre-training Text Encoders as
 * Discriminators Rather Than Generators"), named as Hugging Face's {@code ElectraForPreTraining}:
 * a {@link Bert.Body} under {@code electra.} and a per-token head that says whether each token was
 * replaced by the generator (replaced-token detection).
 *
 * <pre>
 *   h = electra(ids, types, mask)                                      (B, T, C)
 *   z = dense_prediction(act(dense(h)))                                (B, T)    discriminator_predictions
 *   loss = Σ_{t attended} softplus(z_t) − y_t·z_t / |attended|         BCE with logits, y = 1 for replaced
 * </pre>
 *
 * The embeddings have the hidden width (ELECTRA-small's separate {@code embedding_size} and its
 * {@code embeddings_project} are not built). Padding follows {@link Bert#paddingMask}.
 */
public final class Electra extends Module {

    /** {@code discriminator_predictions}: dense C → C, the activation, dense_prediction C → 1. */
    static final class DiscriminatorPredictions extends Module {
        private final Linear dense;
        private final Activation act;
        private final Linear densePrediction;

        DiscriminatorPredictions(ModelConfig c) {
            dense = child("dense", Bert.linear(c, c.dim(), c.dim()));
            act = c.activation();
            densePrediction = child("dense_prediction", Bert.linear(c, c.dim(), 1));
        }

        Variable forward(Variable h) {
            Variable z = densePrediction.forward(act.apply(dense.forward(h))); // (B, T, 1)
            return z.squeeze(-1); // (B, T)
        }
    }

    private final Bert.Body electra;
    private final DiscriminatorPredictions head;

    /** The discriminator of {@code c} (a BERT-recipe config), initialised as Hugging Face's {@code _init_weights}. */
    public Electra(ModelConfig c, Generator g) {
        if (c.architecture() != ModelConfig.Architecture.BERT) {
            throw new IllegalArgumentException("Electra: needs a BERT-recipe config (architecture BERT), got " + c.architecture());
        }
        electra = child("electra", new Bert.Body("Electra", c, g));
        head = child("discriminator_predictions", new DiscriminatorPredictions(c));
        Models.initialise(this, c, g);
    }

    /** ids, token types (null for zeros), a non-causal mask (or null) → replaced-token logits (B, T). */
    public Variable forward(Tensor ids, Tensor tokenTypes, AttentionMask mask) {
        return head.forward(electra.forward(ids, tokenTypes, mask));
    }

    /**
     * Hugging Face's discriminator loss: the mean binary cross-entropy with logits over the
     * positions where {@code attentionMask} is 1 (all of them when it is null), as softplus(z) − y·z,
     * which is −y·log σ(z) − (1 − y)·log(1 − σ(z)) without overflow.
     *
     * @param labels (B, T) integers, 1 where the token was replaced, 0 where it is original
     */
    public static Variable replacedTokenLoss(Variable logits, Tensor labels, Tensor attentionMask) {
        if (labels == null || !Arrays.equals(labels.shape(), logits.shape()) || labels.dtype().isFloating()) {
            throw new IllegalArgumentException("Electra.replacedTokenLoss: labels must be integer " + Arrays.toString(logits.shape())
                    + ", got " + (labels == null ? "null" : labels.dtype() + " " + Arrays.toString(labels.shape())));
        }
        long[] y = labels.toLongArray();
        long[] m = attentionMask == null ? null : attentionMask.toLongArray();
        double[] target = new double[y.length];
        double[] keep = new double[y.length];
        int count = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] != 0 && y[i] != 1) {
                throw new IllegalArgumentException("Electra.replacedTokenLoss: label " + y[i] + " at index " + i + " is not 0 or 1");
            }
            target[i] = y[i];
            keep[i] = m == null || m[i] == 1 ? 1 : 0;
            count += (int) keep[i];
        }
        if (count == 0) {
            throw new IllegalArgumentException("Electra.replacedTokenLoss: the attention mask keeps no position");
        }
        DType dt = logits.dtype();
        Tensor yt = Tensor.of(target, logits.shape()).to(dt); // (B, T)
        Tensor kt = Tensor.of(keep, logits.shape()).to(dt); // (B, T)
        return logits.softplus().sub(logits.mul(Variable.constant(yt))).mul(Variable.constant(kt)).sum().div(count);
    }
}
