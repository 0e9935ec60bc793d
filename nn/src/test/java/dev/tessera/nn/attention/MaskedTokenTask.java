package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Embedding;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * "A short training run lowers the loss" for bidirectional-only kernels, which the causal decoders
 * cannot carry: a tiny seeded model, embedding → x + attention(x, no mask) → linear head, trained
 * with AdamW on a fixed bidirectional task. Each sequence repeats one token c of {0 … V−1}; a third
 * of the positions (at least one, anywhere, so the evidence lies on both sides) are replaced by the
 * mask id V, and the loss is the cross-entropy of predicting c at the masked positions only. A
 * masked position's own input carries nothing, so the loss can only fall below ln V by attending.
 */
final class MaskedTokenTask {
    static final int VOCAB = 6;
    static final int DIM = 16;
    static final int HEADS = 2;

    private MaskedTokenTask() {}

    /** The tiny model around one attention block; the kernel is the config's kind. */
    static final class Model extends Module {
        private final Embedding embed;
        private final MultiHeadAttention attention;
        private final Linear head;

        Model(AttentionKind kind, Generator g) {
            embed = child("embed", new Embedding(VOCAB + 1, DIM, 1.0, g));
            var c = new MultiHeadAttention.Config(DIM, HEADS, HEADS, DIM / HEADS, true, null, 10000, 64, null, 1e-6, 0, 0, DType.F32, kind);
            attention = child("attn", new MultiHeadAttention(c, g));
            head = child("head", new Linear(DIM, VOCAB, true, g));
        }

        Variable forward(Tensor ids) {
            Variable x = embed.forward(ids); // (B, T, C)
            return head.forward(x.add(attention.forward(x, AttentionMask.NONE))); // (B, T, V)
        }
    }

    /** Seeded batch: {inputs (B, T) with mask ids, targets (B, T) with −100 at unmasked positions}. */
    static Tensor[] batch(int b, int t, long seed) {
        Generator g = new Generator(seed);
        long[] in = new long[b * t];
        long[] target = new long[b * t];
        for (int r = 0; r < b; r++) {
            long c = g.nextLong(VOCAB);
            int forced = (int) g.nextLong(t); // at least one masked position per row
            for (int i = 0; i < t; i++) {
                boolean masked = i == forced || g.nextDouble() < 1.0 / 3;
                in[r * t + i] = masked ? VOCAB : c;
                target[r * t + i] = masked ? c : Losses.IGNORE_INDEX;
            }
        }
        return new Tensor[] {Tensor.of(in, b, t), Tensor.of(target, b, t)};
    }

    /** Trains {@code steps} AdamW steps (lr 1e-2) on one fixed batch; returns {first loss, last loss}. */
    static double[] train(AttentionKind kind, int steps, long seed) {
        Model m = new Model(kind, new Generator(seed));
        Tensor[] data = batch(8, 8, seed + 1);
        AdamW opt = new AdamW(ParamGroup.all(m.parameters()), 1e-2);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int i = 0; i < steps; i++) {
            Variable logits = m.forward(data[0]);
            Variable loss = Losses.crossEntropy(logits, data[1]);
            last = loss.item();
            if (i == 0) {
                first = last;
            }
            opt.zeroGrad();
            loss.backward();
            opt.step();
        }
        return new double[] {first, last};
    }
}
