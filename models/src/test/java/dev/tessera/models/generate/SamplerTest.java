package dev.tessera.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.Generator;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Sampling knobs against their definitions: supports, frequencies and the repetition rule. */
class SamplerTest {
    static final float[] LOGITS = {2.0f, 1.0f, 0.5f, -1.0f, 3.0f};

    @Test
    void greedyIsArgmaxWithLowestIndexOnTies() {
        assertEquals(4, Sampler.greedy().next(LOGITS, List.of(), new Generator(1)));
        assertEquals(1, Sampler.greedy().next(new float[] {0, 5, 5}, List.of(), new Generator(1)));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        // 3.0 / 4 = 0.75 falls below 2.0, so greedy moves to token 0
        assertEquals(0, new Sampler(0, 0, 1, 4).next(LOGITS, List.of(4), new Generator(1)));
        // a negative logit gets more negative: token 3 stays last
        float[] negative = {-0.1f, -0.2f};
        assertEquals(1, new Sampler(0, 0, 1, 10).next(negative, List.of(0), new Generator(1)));
    }

    @Property(tries = 50)
    void topKAndTopPRestrictTheSupport(@ForAll @IntRange(min = 1, max = 5) int k, @ForAll @DoubleRange(min = 0.05, max = 1) double p,
            @ForAll long seed) {
        Sampler s = new Sampler(1, k, p, 1);
        Generator g = new Generator(seed);
        // sorted by logit: 4, 0, 1, 2, 3 with softmax probabilities
        double[] probs = softmax(LOGITS);
        int[] order = {4, 0, 1, 2, 3};
        int allowed = k;
        double cum = 0;
        for (int r = 0; r < k; r++) {
            cum += probs[order[r]];
        }
        double mass = 0;
        for (int r = 0; r < k; r++) {
            mass += probs[order[r]] / cum;
            if (mass >= p) {
                allowed = r + 1;
                break;
            }
        }
        Set<Integer> support = new java.util.HashSet<>();
        for (int r = 0; r < allowed; r++) {
            support.add(order[r]);
        }
        for (int i = 0; i < 200; i++) {
            int t = s.next(LOGITS, List.of(), g);
            assertTrue(support.contains(t), "token " + t + " outside top-k " + k + " / top-p " + p);
        }
    }

    @Test
    void temperatureOneSamplesTheSoftmaxAndTheSeedFixesTheDraws() {
        Sampler s = new Sampler(1, 0, 1, 1);
        Generator g = new Generator(7);
        int n = 40_000;
        int[] counts = new int[LOGITS.length];
        for (int i = 0; i < n; i++) {
            counts[s.next(LOGITS, List.of(), g)]++;
        }
        double[] probs = softmax(LOGITS);
        for (int t = 0; t < counts.length; t++) {
            double expected = probs[t] * n;
            assertEquals(expected, counts[t], 5 * Math.sqrt(expected) + 1, "token " + t);
        }
        Generator a = new Generator(3);
        Generator b = new Generator(3);
        for (int i = 0; i < 100; i++) {
            assertEquals(s.next(LOGITS, List.of(), a), s.next(LOGITS, List.of(), b));
        }
    }

    static double[] softmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void badKnobsAreOneLineErrors() {
        assertEquals("sampler: top-p must be in (0, 1], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 1.5, 1)).getMessage());
        assertEquals("sampler: temperature must be >= 0, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new Sampler(-1, 0, 1, 1)).getMessage());
    }
}
