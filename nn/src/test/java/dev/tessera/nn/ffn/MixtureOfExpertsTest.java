package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.Regularizer;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** E16: top-k routed SwiGLU experts with capacity, load-balancing loss and router z-loss, against plain loops in doubles. */
class MixtureOfExpertsTest {

    private static MixtureOfExperts moe(int dim, int experts, int k, int hidden, double capacity, boolean renormalize, long seed) {
        return new MixtureOfExperts(dim, 8, new MixtureOfExperts.Options(experts, k, hidden, capacity, 0.3, 0.7, renormalize), DType.F64,
                new Generator(seed));
    }

    /** The output (B·T·C) and, last, the auxiliary term of the equations in {@link MixtureOfExperts}'s javadoc. */
    static double[] naive(MixtureOfExperts m, double[] x, int b, int t, int c) {
        Map<String, Tensor> s = m.stateDict();
        MixtureOfExperts.Options o = m.options();
        int e = o.experts();
        int h = m.expertHidden();
        int n = b * t;
        double[] wg = Ref.p(s, "gate.weight");
        double[] gu = Ref.p(s, "experts.gate_up_proj");
        double[] dn = Ref.p(s, "experts.down_proj");
        double[] logits = Ref.linear(x, n, c, wg, null, e);
        int cap = o.capacityFactor() == 0 ? Integer.MAX_VALUE : (int) Math.ceil(o.capacityFactor() * o.topK() * t / e);
        double[] y = new double[n * c + 1];
        double[] count = new double[e];
        double[] meanP = new double[e];
        double z = 0;
        for (int r = 0; r < b; r++) {
            int[] used = new int[e];
            for (int p = 0; p < t; p++) {
                int tok = r * t + p;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < e; j++) {
                    max = Math.max(max, logits[tok * e + j]);
                }
                double sum = 0;
                for (int j = 0; j < e; j++) {
                    sum += Math.exp(logits[tok * e + j] - max);
                }
                z += Math.pow(max + Math.log(sum), 2);
                double[] prob = new double[e];
                for (int j = 0; j < e; j++) {
                    prob[j] = Math.exp(logits[tok * e + j] - max) / sum;
                    meanP[j] += prob[j] / n;
                }
                List<Integer> top = IntStream.range(0, e).boxed().sorted(Comparator.comparingDouble((Integer j) -> -prob[j])).limit(o.topK())
                        .toList();
                double norm = o.renormalize() ? top.stream().mapToDouble(j -> prob[j]).sum() : 1;
                for (int ex : top) {
                    count[ex]++;
                    if (used[ex]++ >= cap) {
                        continue; // over capacity: dropped
                    }
                    double[] act = new double[h];
                    for (int i = 0; i < h; i++) {
                        double gs = 0;
                        double us = 0;
                        for (int q = 0; q < c; q++) {
                            gs += gu[(ex * 2 * h + i) * c + q] * x[tok * c + q];
                            us += gu[(ex * 2 * h + h + i) * c + q] * x[tok * c + q];
                        }
                        act[i] = gs / (1 + Math.exp(-gs)) * us;
                    }
                    for (int q = 0; q < c; q++) {
                        double v = 0;
                        for (int i = 0; i < h; i++) {
                            v += dn[(ex * c + q) * h + i] * act[i];
                        }
                        y[tok * c + q] += prob[ex] / norm * v;
                    }
                }
            }
        }
        double balance = 0;
        for (int j = 0; j < e; j++) {
            balance += count[j] / n * meanP[j];
        }
        y[n * c] = o.auxLoss() * e * balance + o.zLoss() * z / n;
        return y;
    }

    private static double[] outputAndAux(MixtureOfExperts m, Tensor x) {
        double[] out = Ref.d(m.forward(Variable.constant(x)).data());
        double[] all = java.util.Arrays.copyOf(out, out.length + 1);
        all[out.length] = m.regularization().item();
        return all;
    }

    @Property(tries = 40)
    void matchesNaiveReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 5) int c, @ForAll @IntRange(min = 1, max = 5) int experts, @ForAll @IntRange(min = 1, max = 3) int k,
            @ForAll @IntRange(min = 0, max = 6) int hidden, @ForAll @IntRange(min = 0, max = 3) int capacityQuarters,
            @ForAll boolean renormalize, @ForAll @IntRange(min = 1, max = 100000) int seed) {
        MixtureOfExperts m = moe(c, experts, Math.min(k, experts), hidden, capacityQuarters * 0.5, renormalize, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, Ref.d(x), b, t, c), outputAndAux(m, x), 1e-10);
    }

    private static void close(double[] want, double[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), "element " + i);
        }
    }

    /** Gradients in x, the router and every expert, with capacity dropping some assignments, and the auxiliary terms' own. */
    @Test
    void gradientsMatchCentralDifferences() {
        MixtureOfExperts m = moe(4, 3, 2, 3, 0.75, true, 5); // capacity ⌈0.75·2·6/3⌉ = 3 of 12 assignments per expert
        Variable x = Variable.of(Ref.randn(6, 1, 1, 6, 4), true);
        List<Variable> leaves = ParamGradCheck.concat(m.parameters(), x);
        ParamGradCheck.check(() -> m.forward(x), leaves);
        ParamGradCheck.check(() -> {
            m.forward(x);
            return m.regularization().reshape(1);
        }, leaves);
        MixtureOfExperts switchTop1 = moe(4, 3, 1, 3, 0, false, 7);
        ParamGradCheck.check(() -> switchTop1.forward(x), ParamGradCheck.concat(switchTop1.parameters(), x));
    }

    /** Per-token without capacity: the whole sequence at once equals one token at a time (what decoding with a KV cache does). */
    @Test
    void fullSequenceEqualsTokenByToken() {
        MixtureOfExperts m = moe(5, 4, 2, 0, 0, true, 9);
        Tensor x = Ref.randn(10, 1, 2, 7, 5);
        double[] full = Ref.d(m.forward(Variable.constant(x)).data());
        try (var scope = GradMode.noGrad()) {
            for (int s = 0; s < 7; s++) {
                double[] one = Ref.d(m.forward(Variable.constant(x.narrow(1, s, 1))).data());
                for (int r = 0; r < 2; r++) {
                    for (int q = 0; q < 5; q++) {
                        assertEquals(full[(r * 7 + s) * 5 + q], one[r * 5 + q], 1e-12);
                    }
                }
            }
        }
    }

    /** Capacity serves assignments in position order, so a position's output does not depend on later positions. */
    @Test
    void capacityIsCausal() {
        MixtureOfExperts m = moe(4, 3, 1, 2, 0.5, false, 13);
        Tensor x = Ref.randn(14, 1, 1, 12, 4);
        Tensor changed = x.copy();
        changed.narrow(1, 6, 6).copyFromInPlace(Ref.randn(15, 1, 1, 6, 4));
        double[] a = Ref.d(m.forward(Variable.constant(x)).data());
        double[] b = Ref.d(m.forward(Variable.constant(changed)).data());
        for (int i = 0; i < 6 * 4; i++) {
            assertEquals(a[i], b[i], 0, "element " + i);
        }
    }

    /** Over capacity an assignment is dropped: with capacity 1 per expert and row only the first token routed to each expert gets output. */
    @Test
    void tokensOverCapacityPassThroughAsZero() {
        MixtureOfExperts m = moe(3, 2, 1, 2, 1e-9, false, 17); // ⌈tiny⌉ = 1 assignment per expert and row
        assertEquals(1, m.capacity(9));
        Tensor x = Ref.randn(18, 1, 1, 9, 3);
        double[] y = Ref.d(m.forward(Variable.constant(x)).data());
        long nonzero = IntStream.range(0, 9).filter(s -> IntStream.range(0, 3).anyMatch(q -> y[s * 3 + q] != 0)).count();
        assertTrue(nonzero >= 1 && nonzero <= 2, "tokens with output: " + nonzero);
    }

    /** Dispatch groups assignments by expert in position then rank order and counts before capacity. */
    @Test
    void dispatchGathersTokenBlocksPerExpert() {
        long[] chosen = {0, 1, 1, 0, 1, 2, 0, 2}; // 4 tokens (1 row), k = 2, 3 experts
        var d = MixtureOfExperts.dispatch(chosen, 1, 4, 3, 2, 2);
        assertEquals(List.of(0, 1), java.util.Arrays.stream(d.tokens()[0]).boxed().toList()); // token 3's choice of 0 is over capacity
        assertEquals(List.of(0, 1), java.util.Arrays.stream(d.tokens()[1]).boxed().toList());
        assertEquals(List.of(2, 3), java.util.Arrays.stream(d.tokens()[2]).boxed().toList());
        assertEquals(List.of(1, 2), java.util.Arrays.stream(d.slots()[1]).boxed().toList());
        assertEquals(List.of(3L, 3L, 2L), java.util.Arrays.stream(d.counts()).boxed().toList());
    }

    /** The auxiliary terms reach the trainer through Regularizer.total; zero before any forward. */
    @Test
    void auxiliaryLossIsTheRegularizerTerm() {
        MixtureOfExperts m = moe(3, 4, 2, 2, 0, true, 21);
        assertEquals(0, Regularizer.total(m).item());
        m.forward(Variable.constant(Ref.randn(22, 1, 2, 3, 3)));
        double aux = m.regularization().item();
        assertTrue(aux > 0);
        assertEquals(aux, Regularizer.total(m).item());
    }

    @Test
    void optionsAreValidatedAndBoundByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfExperts.Options(2, 3, 0, 0, 0, 0, true));
        assertEquals("ffn moe: need experts >= 1, 1 <= top_k <= experts and hidden >= 0, got experts=2 top_k=3 hidden=0", e.getMessage());
        var o = (MixtureOfExperts.Options) FeedForwardKinds.options(FeedForward.Kind.MOE, Map.of("experts", "4", "top_k", 1));
        assertEquals(new MixtureOfExperts.Options(4, 1, 0, 0, 0.01, 0.001, true), o);
        assertEquals(6, o.expertHidden(6));
        var bad = assertThrows(IllegalArgumentException.class, () -> FeedForwardKinds.options(FeedForward.Kind.MOE, Map.of("expert", "4")));
        assertEquals("ffn moe: unknown option 'expert' (options: experts, top_k, hidden, capacity_factor, aux_loss, z_loss, renormalize)",
                bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeedForward.Config(4, 8, FeedForward.Kind.MOE, null, false, DType.F32));
    }
}
