package dev.tessera.models.train;

import dev.tessera.autograd.Variable;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.nn.loss.Losses;
import dev.tessera.tensor.Tensor;

/**
 * What the trainer minimises on a batch: next-token cross-entropy for a decoder, masked-LM
 * cross-entropy for an encoder ({@link MaskedLm}). Training batch {@code index} and validation batch
 * {@code i} fix every random choice, so a resumed run and a repeated evaluation see the same losses.
 */
public interface Objective {

    /** The loss of training batch {@code index} (with its gradient graph). */
    Variable loss(LanguageModel model, PackedDataset.Batch batch, long index);

    /** The loss of validation batch {@code index} (no extra terms such as the z-loss). */
    Variable validationLoss(LanguageModel model, PackedDataset.Batch batch, int index);

    /** A short name for logs: "next-token" or "masked-LM". */
    String name();

    /** Next-token prediction under the causal document mask, plus the z-loss when {@code zLoss} > 0. */
    static Objective nextToken(double zLoss) {
        return new Objective() {
            @Override
            public Variable loss(LanguageModel model, PackedDataset.Batch batch, long index) {
                Variable logits = model.forward(batch.inputs(), PackedDataset.mask(batch)); // (B, T, V); Perceiver AR: (B, n, V)
                Variable loss = Losses.crossEntropyFused(logits, scoredTargets(logits, batch.targets()));
                return zLoss > 0 ? loss.add(Losses.zLoss(logits, zLoss)) : loss;
            }

            @Override
            public Variable validationLoss(LanguageModel model, PackedDataset.Batch batch, int index) {
                Variable logits = model.forward(batch.inputs(), PackedDataset.mask(batch));
                return Losses.crossEntropyFused(logits, scoredTargets(logits, batch.targets()));
            }

            @Override
            public String name() {
                return "next-token";
            }
        };
    }

    /**
     * The targets (B, T) the logits (B, n, V) score: all of them, or the last n when the model
     * predicts only its last n positions (Perceiver AR, B23: the loss covers the latents' targets).
     */
    static Tensor scoredTargets(Variable logits, Tensor targets) {
        int n = logits.size(1);
        int t = targets.size(1);
        return n == t ? targets : targets.narrow(1, t - n, n).contiguous();
    }

    /** The objective of {@code model}'s architecture: masked-LM for BERT (EOD never masked), next-token otherwise. */
    static Objective of(ModelConfig model, int endOfDocument, long seed, double zLoss) {
        return model.architecture() == ModelConfig.Architecture.BERT ? MaskedLm.of(model, endOfDocument, seed) : nextToken(zLoss);
    }
}
