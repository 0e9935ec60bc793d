package dev.tessera.models.generate;

import dev.tessera.tensor.Generator;
import java.util.Arrays;
import java.util.Collection;

/**
 * Picks the next token from one row of logits, with the knobs Hugging Face's generate applies in
 * this order: repetition penalty (CTRL, Keskar et al. 2019: a seen token's logit is divided by the
 * penalty when positive, multiplied when negative), temperature, top-k, top-p (nucleus, Holtzman
 * et al. 2020: the smallest set of most likely tokens whose probability reaches p), then a draw
 * from the renormalised distribution with a seeded generator. Temperature 0 is greedy (argmax,
 * lowest index on ties).
 */
public record Sampler(double temperature, int topK, double topP, double repetitionPenalty) {
    public Sampler {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("sampler: temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("sampler: top-k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("sampler: top-p must be in (0, 1], got " + topP);
        }
        if (!(repetitionPenalty > 0)) {
            throw new IllegalArgumentException("sampler: repetition penalty must be > 0 (1 = off), got " + repetitionPenalty);
        }
    }

    public static Sampler greedy() {
        return new Sampler(0, 0, 1, 1);
    }

    /** The next token for {@code logits} (one vocabulary row), given the tokens so far. */
    public int next(float[] logits, Collection<Integer> previous, Generator g) {
        double[] z = new double[logits.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = logits[i];
        }
        if (repetitionPenalty != 1) {
            for (int t : previous.stream().distinct().toList()) {
                z[t] = z[t] > 0 ? z[t] / repetitionPenalty : z[t] * repetitionPenalty;
            }
        }
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < z.length; i++) {
                if (z[i] > z[best]) {
                    best = i;
                }
            }
            return best;
        }
        for (int i = 0; i < z.length; i++) {
            z[i] /= temperature;
        }
        Integer[] order = new Integer[z.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> z[a] != z[b] ? Double.compare(z[b], z[a]) : Integer.compare(a, b));
        int keep = topK > 0 ? Math.min(topK, z.length) : z.length;
        double max = z[order[0]];
        double[] p = new double[keep];
        double total = 0;
        for (int r = 0; r < keep; r++) {
            p[r] = Math.exp(z[order[r]] - max);
            total += p[r];
        }
        if (topP < 1) {
            double cumulative = 0;
            int cut = keep;
            for (int r = 0; r < keep; r++) {
                cumulative += p[r] / total;
                if (cumulative >= topP) {
                    cut = r + 1;
                    break;
                }
            }
            keep = cut;
            total = 0;
            for (int r = 0; r < keep; r++) {
                total += p[r];
            }
        }
        double u = g.nextDouble() * total;
        for (int r = 0; r < keep; r++) {
            u -= p[r];
            if (u < 0) {
                return order[r];
            }
        }
        return order[keep - 1];
    }
}
