package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** State-dict round trips, per-parameter step counts, errors and the Schedule-Free mode switch. */
class OptimizerStateTest {

    record Kind(String name, Function<List<ParamGroup>, Optimizer> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Kind> kinds() {
        return Stream.of(
                new Kind("SGD", g -> new SGD(g, 0.05, 0.9, 0.1, false, 0.01)),
                new Kind("SGD-nesterov", g -> new SGD(g, 0.05, 0.9, 0, true, 0.01)),
                new Kind("Adam", g -> new Adam(g, 1e-2, 0.9, 0.99, 1e-8, 0.01)),
                new Kind("AdamW", g -> new AdamW(g, 1e-2, 0.9, 0.99, 1e-8, 0.1)),
                new Kind("Lion", g -> new Lion(g, 1e-3, 0.9, 0.99, 0.1)),
                new Kind("ScheduleFreeAdamW", g -> new ScheduleFreeAdamW(g, 1e-2, 0.9, 0.99, 1e-8, 0.1, 2, 0, 2)));
    }

    static List<Variable> params(Generator g) {
        return List.of(Variable.of(Tensor.randn(g, DType.F32, 3, 4), true), Variable.of(Tensor.randn(g, DType.F32, 4), true),
                Variable.of(Tensor.randn(g, DType.F32, 2, 2), true));
    }

    static List<Variable> copies(List<Variable> ps) {
        List<Variable> out = new ArrayList<>();
        for (Variable p : ps) {
            out.add(Variable.of(p.data().copy(), true));
        }
        return out;
    }

    static List<ParamGroup> groups(List<Variable> ps) {
        return List.of(ParamGroup.of(ps.subList(0, 2)), new ParamGroup(ps.subList(2, 3), 2e-3, 0));
    }

    /** Sets the same seeded gradients on each list; parameter 2 gets none on odd steps. */
    static void grads(Generator g, int step, List<List<Variable>> lists) {
        for (int i = 0; i < 3; i++) {
            Tensor grad = Tensor.randn(g, DType.F32, lists.get(0).get(i).shape());
            for (List<Variable> ps : lists) {
                ps.get(i).setGrad(i == 2 && step % 2 == 1 ? null : grad.copy());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void stateDictRoundTripIsBitwise(Kind kind) {
        Generator g = new Generator(7);
        List<Variable> a = params(g);
        Optimizer optA = kind.make().apply(groups(a));
        for (int s = 0; s < 3; s++) {
            grads(g, s, List.of(a));
            optA.step();
        }
        Map<String, Tensor> saved = new LinkedHashMap<>();
        optA.stateDict().forEach((k, v) -> saved.put(k, v.copy()));
        List<Variable> b = copies(a);
        Optimizer optB = kind.make().apply(groups(b));
        optB.setLr(123); // overwritten by the loaded group learning rates
        optB.loadStateDict(saved);
        assertEquals(optA.stateDict().keySet(), optB.stateDict().keySet());
        for (int s = 3; s < 6; s++) {
            grads(g, s, List.of(a, b));
            optA.step();
            optB.step();
        }
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(a.get(i).data().toFloatArray(), b.get(i).data().toFloatArray(), kind + " param " + i);
        }
        assertEquals(6, optA.stateDict().get("state.0.step").getLong());
        assertEquals(3, optA.stateDict().get("state.2.step").getLong(), "steps count per parameter");
        assertEquals(DType.I64, optA.stateDict().get("state.0.step").dtype());
    }

    @Test
    void stateDictSurvivesSafetensors(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        Generator g = new Generator(13);
        List<Variable> a = params(g);
        ScheduleFreeAdamW opt = new ScheduleFreeAdamW(groups(a), 1e-2, 0.1, 3);
        for (int s = 0; s < 2; s++) {
            grads(g, s, List.of(a));
            opt.step();
        }
        java.nio.file.Path file = dir.resolve("optim.safetensors");
        dev.tessera.tensor.SafeTensors.write(file, opt.stateDict(), Map.of());
        List<Variable> b = copies(a);
        ScheduleFreeAdamW fresh = new ScheduleFreeAdamW(groups(b), 1e-2, 0.1, 3);
        fresh.loadStateDict(dev.tessera.tensor.SafeTensors.read(file));
        grads(g, 2, List.of(a, b));
        opt.step();
        fresh.step();
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(a.get(i).data().toFloatArray(), b.get(i).data().toFloatArray());
        }
    }

    @Test
    void loadErrorsNameTheKeys() {
        Generator g = new Generator(3);
        List<Variable> a = params(g);
        Adam opt = new Adam(groups(a), 1e-3, 0.9, 0.999, 1e-8, 0);
        grads(g, 0, List.of(a));
        opt.step();
        Map<String, Tensor> sd = new LinkedHashMap<>(opt.stateDict());
        Adam fresh = new Adam(groups(copies(a)), 1e-3, 0.9, 0.999, 1e-8, 0);

        Map<String, Tensor> missing = new LinkedHashMap<>(sd);
        missing.remove("state.1.exp_avg_sq");
        var e1 = assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(missing));
        assertTrue(e1.getMessage().contains("missing keys [state.1.exp_avg_sq]"), e1.getMessage());
        assertTrue(!e1.getMessage().contains("\n"));

        Map<String, Tensor> wrongShape = new LinkedHashMap<>(sd);
        wrongShape.put("state.0.exp_avg", Tensor.zeros(DType.F32, 4, 3));
        var e2 = assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(wrongShape));
        assertTrue(e2.getMessage().contains("state.0.exp_avg [4, 3] vs [3, 4]"), e2.getMessage());

        Map<String, Tensor> extra = new LinkedHashMap<>(sd);
        extra.put("state.9.exp_avg", Tensor.zeros(DType.F32, 1));
        var e3 = assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(extra));
        assertTrue(e3.getMessage().contains("unexpected keys [state.9.exp_avg]"), e3.getMessage());

        // nothing was changed by the failed loads: a fresh optimizer still has no per-parameter state
        assertTrue(fresh.stateDict().keySet().stream().noneMatch(k -> k.startsWith("state.")));
    }

    @Test
    void nullGradientsAreSkippedAndDuplicatesRejected() {
        Generator g = new Generator(5);
        List<Variable> a = params(g);
        Tensor before = a.get(1).data().copy();
        AdamW opt = new AdamW(ParamGroup.all(a), 1e-2);
        a.get(0).setGrad(Tensor.ones(DType.F32, 3, 4));
        opt.step();
        assertArrayEquals(before.toFloatArray(), a.get(1).data().toFloatArray());
        assertTrue(opt.stateDict().containsKey("state.0.exp_avg"));
        assertTrue(!opt.stateDict().containsKey("state.1.exp_avg"));
        opt.zeroGrad();
        assertEquals(null, a.get(0).grad());
        var e = assertThrows(IllegalArgumentException.class,
                () -> new SGD(List.of(ParamGroup.of(a), ParamGroup.of(a.subList(0, 1))), 0.1));
        assertEquals("SGD: a parameter appears twice (groups 0 and 1)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Adam(ParamGroup.all(a), 1e-3, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new SGD(ParamGroup.all(a), 0.1, 0, 0, true, 0));
    }

    @Test
    void scheduleFreeRefusesToStepInEvalMode() {
        Generator g = new Generator(9);
        List<Variable> a = params(g);
        ScheduleFreeAdamW opt = new ScheduleFreeAdamW(ParamGroup.all(a), 1e-2, 0, 0);
        for (int s = 0; s < 2; s++) { // after one step x = y = z (the first average weight is 1)
            grads(g, 0, List.of(a));
            opt.step();
        }
        Tensor y = a.get(0).data().copy();
        opt.eval();
        assertTrue(!opt.isTraining());
        assertNotEquals(y.getFloat(0, 0), a.get(0).data().getFloat(0, 0));
        assertThrows(IllegalStateException.class, opt::step);
        opt.eval(); // idempotent
        opt.train();
        assertArrayEquals(y.toFloatArray(), a.get(0).data().toFloatArray(), 1e-6f);
    }

    @Test
    void setLrReachesEveryGroup() {
        List<Variable> a = params(new Generator(1));
        Lion opt = new Lion(groups(a), 1e-4, 0.9, 0.99, 0);
        assertEquals(1e-4, opt.groups().get(0).lr());
        assertEquals(2e-3, opt.groups().get(1).lr());
        new WarmupCosine(1e-3, 10, 100, 1e-4).apply(opt, 5);
        assertEquals(5e-4, opt.groups().get(1).lr(), 1e-15);
        assertEquals(5e-4, opt.lr(), 1e-15);
    }
}
