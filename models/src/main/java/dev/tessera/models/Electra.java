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

    /** The parts of one joint step: the generator's MLM loss, the discriminator's loss and their weighted sum. */
    public record JointLoss(Variable generator, Variable discriminator, Variable total) { }

    /**
     * ELECTRA's joint pre-training loss (Clark et al. 2020, §2): the generator (a small BERT) fills
     * the masked positions by sampling from its MLM distribution, the discriminator labels every
     * attended token as original (0) or replaced (1), and the total is L_MLM + λ·L_Disc (λ = 50
     * in the paper). A sample equal to the original token counts as original, as in the paper.
     * Sampling is not differentiated through: the discriminator's loss does not reach the
     * generator. The paper's shared token embeddings between the two are not done here.
     *
     * @param ids the original tokens (B, T)
     * @param maskedInputs the generator's input, {@code ids} with the selected positions masked (e.g. {@code MaskedLm.mask})
     * @param mlmLabels the original token at selected positions, −100 elsewhere; the generator samples where it is not −100
     * @param lambda the discriminator loss weight λ
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding, or null for none
     */
    public static JointLoss jointLoss(Bert generator, Electra discriminator, Tensor ids, Tensor maskedInputs, Tensor mlmLabels,
            Tensor attentionMask, double lambda, Generator g) {
        AttentionMask mask = attentionMask == null ? null : Bert.paddingMask(attentionMask);
        Variable genLogits = generator.forward(maskedInputs, null, mask); // (B, T, V)
        Variable genLoss = dev.tessera.nn.loss.Losses.crossEntropyFused(genLogits, mlmLabels);
        long[] original = ids.toLongArray();
        long[] labels = mlmLabels.toLongArray();
        long[] corrupted = original.clone();
        long[] replaced = new long[original.length];
        int v = genLogits.size(-1);
        double[] probs = genLogits.data().softmax(-1).contiguous().toDoubleArray(); // (B·T·V), no gradient
        for (int i = 0; i < original.length; i++) {
            if (labels[i] == dev.tessera.nn.loss.Losses.IGNORE_INDEX) {
                continue;
            }
            double u = g.nextDouble();
            int token = v - 1;
            for (int k = 0; k < v; k++) {
                u -= probs[i * v + k];
                if (u < 0) {
                    token = k;
                    break;
                }
            }
            corrupted[i] = token;
            replaced[i] = token == original[i] ? 0 : 1;
        }
        Tensor discIn = Tensor.of(corrupted, ids.shape());
        Variable discLogits = discriminator.forward(discIn, null, mask); // (B, T)
        Variable discLoss = replacedTokenLoss(discLogits, Tensor.of(replaced, ids.shape()), attentionMask);
        return new JointLoss(genLoss, discLoss, genLoss.add(discLoss.mul(lambda)));
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
