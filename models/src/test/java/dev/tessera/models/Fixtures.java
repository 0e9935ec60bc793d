package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/** Small configs, seeded inputs and comparisons shared by the model tests. */
final class Fixtures {
    private Fixtures() {}

    /** A small Llama with grouped-query attention: V 40, T 16, L 2, C 32, NH 4, KV 2, FF 48. */
    static ModelConfig llama() {
        return ModelConfig.llama(40, 16, 2, 32, 4, 2, 48);
    }

    /** A small GPT-2: V 40, T 16, L 2, C 32, NH 4. */
    static ModelConfig gpt2() {
        return ModelConfig.gpt2(40, 16, 2, 32, 4);
    }

    static Tensor ids(long seed, int b, int t, int vocab) {
        return Tensor.randint(new Generator(seed), 0, vocab, DType.I64, b, t);
    }

    static double maxAbsDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        if (x.length != y.length) {
            throw new AssertionError("sizes differ: " + x.length + " vs " + y.length);
        }
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst;
    }

    /** Trains on one fixed batch (next-token targets) with AdamW; returns {first loss, last loss}. */
    static double[] train(LanguageModel m, int steps, double lr, long seed) {
        ModelConfig c = m.config();
        Tensor seq = ids(seed, 4, c.contextLength() + 1, c.vocabSize());
        Tensor x = seq.narrow(1, 0, c.contextLength()).contiguous(); // (B, T)
        Tensor y = seq.narrow(1, 1, c.contextLength()).contiguous(); // (B, T)
        AdamW opt = new AdamW(ParamGroup.all(m.module().parameters()), lr);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int s = 0; s < steps; s++) {
            opt.zeroGrad();
            Variable logits = m.forward(x, null); // (B, T, V)
            Variable loss = Losses.crossEntropy(logits, y);
            if (c.zLoss() > 0) {
                loss = loss.add(Losses.zLoss(logits, c.zLoss()));
            }
            Variable regularization = Regularizer.total(m.module());
            if (regularization != null) {
                loss = loss.add(regularization);
            }
            loss.backward();
            opt.step();
            if (s == 0) {
                first = loss.item();
            }
            last = loss.item();
        }
        return new double[] {first, last};
    }

    /** The next {@code n} greedy tokens after {@code prompt}, each recomputed by a full uncached forward (the reference for cached generation). */
    static int[] greedyByRecomputation(LanguageModel m, int[] prompt, int n) {
        java.util.List<Long> seq = new java.util.ArrayList<>();
        for (int tok : prompt) {
            seq.add((long) tok);
        }
        int[] out = new int[n];
        try (var s = dev.tessera.autograd.GradMode.noGrad()) {
            for (int i = 0; i < n; i++) {
                long[] data = seq.stream().mapToLong(Long::longValue).toArray();
                float[] last = m.forward(Tensor.of(dev.tessera.tensor.Storage.wrap(DType.I64, data), 1, data.length), null).data()
                        .select(0, 0).select(0, data.length - 1).toFloatArray();
                int best = 0;
                for (int v = 1; v < last.length; v++) {
                    best = last[v] > last[best] ? v : best;
                }
                out[i] = best;
                seq.add((long) best);
            }
        }
        return out;
    }
}
