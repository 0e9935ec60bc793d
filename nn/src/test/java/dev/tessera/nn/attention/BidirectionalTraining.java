package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
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
import java.util.function.Function;

/**
 * "A short training run lowers the loss" for bidirectional-only kernels (B17 Nyström, B21
 * Sinkformer and SOFT), which the causal decoders cannot carry: a tiny seeded model from nn pieces,
 * token + learned position embeddings → x + attention(x) with no mask → linear head, trained on a
 * fixed batch of 8 rows of 8 tokens, a task only a bidirectional model can solve: one position p
 * per row is replaced by a MASK token and must be predicted as (tok[p−1] + tok[p+1]) mod V, from
 * both its neighbours, the loss taken at that position only.
 */
final class BidirectionalTraining {
    static final int VOCAB = 6, MASK = VOCAB, T = 8, B = 8, DIM = 16, HEADS = 2;

    private BidirectionalTraining() {}

    private static final class Model extends Module {
        final Embedding tokens;
        final Embedding positions;
        final MultiHeadAttention attention;
        final Linear head;

        Model(Function<Generator, AttentionKernel> kernel, Generator g) {
            tokens = child("tok", new Embedding(VOCAB + 1, DIM, 0.5, g));
            positions = child("pos", new Embedding(T, DIM, 0.5, g));
            var c = new MultiHeadAttention.Config(DIM, HEADS, HEADS, DIM / HEADS, false, null, 10000, T, null, 1e-6, 0, 0, DType.F32);
            attention = child("attn", new MultiHeadAttention(c, g, kernel.apply(g)));
            head = child("head", new Linear(DIM, VOCAB, true, g));
        }

        Variable forward(Tensor ids) {
            Variable x = tokens.forward(ids).add(positions.forward(Tensor.arange(T))); // (B, T, C)
            return head.forward(x.add(attention.forward(x, AttentionMask.NONE))); // (B, T, V)
        }
    }

    /** {first loss, last loss} of {@code steps} AdamW steps (lr 0.02) on the fixed seeded batch. */
    static double[] train(Function<Generator, AttentionKernel> kernel, int steps) {
        Generator g = new Generator(21);
        long[] ids = new long[B * T];
        long[] targets = new long[B * T];
        java.util.Arrays.fill(targets, Losses.IGNORE_INDEX);
        for (int r = 0; r < B; r++) {
            for (int i = 0; i < T; i++) {
                ids[r * T + i] = g.nextLong(VOCAB);
            }
            int p = 1 + (int) g.nextLong(T - 2);
            targets[r * T + p] = (ids[r * T + p + 1] + ids[r * T + p - 1]) % VOCAB;
            ids[r * T + p] = MASK;
        }
        Tensor input = Tensor.of(ids, B, T);
        Tensor target = Tensor.of(targets, B, T);
        Model model = new Model(kernel, new Generator(5));
        AdamW opt = new AdamW(ParamGroup.all(model.parameters()), 0.02);
        double first = Double.NaN, last = Double.NaN;
        for (int s = 0; s < steps; s++) {
            Variable loss = Losses.crossEntropy(model.forward(input), target);
            last = loss.item();
            if (s == 0) {
                first = last;
            }
            loss.backward();
            opt.step();
            opt.zeroGrad();
        }
        try (var noGrad = GradMode.noGrad()) {
            last = Losses.crossEntropy(model.forward(input), target).item();
        }
        return new double[] {first, last};
    }
}
