package dev.tessera.models.train;

import dev.tessera.autograd.Variable;
import dev.tessera.models.Bert;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.loss.Losses;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * BERT's masked-language-model objective (Devlin et al. 2019, §3.1; Hugging Face's
 * {@code DataCollatorForLanguageModeling}): each position is selected with probability 15%; a
 * selected token becomes {@code [MASK]} with probability 80%, a uniformly random ordinary token
 * with 10%, and stays itself with 10%. The label is the original token at selected positions and
 * −100 (ignored) elsewhere, so the loss is the mean cross-entropy over selected positions only.
 * The end-of-document token, BERT's [SEP] here, is never selected (as Hugging Face skips special
 * tokens); a batch in which nothing was drawn gets its first ordinary position selected, so the
 * loss is never the 0/0 of an empty selection. Attention is bidirectional within each packed
 * document (the document mask, not causal).
 *
 * <p>The choices are a pure function of (seed, batch): training batch {@code index} draws from
 * stream {@code index}, validation batch {@code i} from stream −1 − i, the same at every evaluation.
 *
 * @param maskId the {@code [MASK]} id; random replacements are drawn from [0, maskId)
 * @param endOfDocument the EOD id, never selected
 * @param rate the selection probability (0.15)
 */
public record MaskedLm(int maskId, int endOfDocument, double rate, long seed) implements Objective {
    public MaskedLm {
        if (maskId < 2 || !(rate > 0 && rate < 1)) {
            throw new IllegalArgumentException("MaskedLm: need maskId >= 2 and 0 < rate < 1, got " + maskId + " and " + rate);
        }
    }

    /** BERT's 15% for {@code model} (whose last id is [MASK], {@link Bert#maskTokenId}). */
    public static MaskedLm of(ModelConfig model, int endOfDocument, long seed) {
        return new MaskedLm(Bert.maskTokenId(model), endOfDocument, 0.15, seed);
    }

    /** Masked inputs and their labels, both (B, T) I64. */
    public record Masked(Tensor inputs, Tensor labels) { }

    /** Applies the 80/10/10 masking to {@code ids} (B, T) with the choices of {@code stream}. */
    public Masked mask(Tensor ids, long stream) {
        long[] x = ids.toLongArray();
        long[] labels = new long[x.length];
        Generator g = new Generator(mix(seed, stream));
        int selected = 0;
        int firstOrdinary = -1;
        for (int i = 0; i < x.length; i++) {
            double u = g.nextDouble();
            double action = g.nextDouble();
            long random = g.nextLong(maskId);
            labels[i] = Losses.IGNORE_INDEX;
            if (x[i] == endOfDocument) {
                continue;
            }
            firstOrdinary = firstOrdinary < 0 ? i : firstOrdinary;
            if (u < rate) {
                labels[i] = x[i];
                x[i] = action < 0.8 ? maskId : action < 0.9 ? random : x[i];
                selected++;
            }
        }
        if (selected == 0 && firstOrdinary >= 0) {
            labels[firstOrdinary] = x[firstOrdinary];
            x[firstOrdinary] = maskId;
        }
        return new Masked(Tensor.of(x, ids.shape()).to(ids.device()), Tensor.of(labels, ids.shape()).to(ids.device())); // masking is data preparation, on the host
    }

    @Override
    public Variable loss(LanguageModel model, PackedDataset.Batch batch, long index) {
        return lossOf(model, batch, index);
    }

    @Override
    public Variable validationLoss(LanguageModel model, PackedDataset.Batch batch, int index) {
        return lossOf(model, batch, -1L - index);
    }

    @Override
    public String name() {
        return "masked-LM";
    }

    private Variable lossOf(LanguageModel model, PackedDataset.Batch batch, long stream) {
        Masked m = mask(batch.inputs(), stream); // drawn on the host; the ids follow the batch to the model's device
        Variable logits = model.forward(m.inputs().to(batch.inputs().device()), new AttentionMask(false, batch.documentIds(), 0)); // (B, T, V)
        return Losses.crossEntropyFused(logits, m.labels());
    }

    /** SplitMix64's finaliser over (seed, stream): independent-looking streams for neighbouring batches. */
    private static long mix(long seed, long stream) {
        long z = seed * 0x9E3779B97F4A7C15L + stream;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
