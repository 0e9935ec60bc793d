package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The engine's contracts: grad mode, accumulation, graph release, version checks, hooks, checkpointing, export. */
class EngineTest {
    static Variable leaf(double... values) {
        return Variable.of(Tensor.of(values), true);
    }

    @Test
    void noGradScopesDoNotRecordAndNest() {
        Variable x = leaf(1, 2);
        try (var outer = GradMode.noGrad()) {
            assertFalse(x.mul(2).requiresGrad());
            try (var inner = GradMode.enableGrad()) {
                assertTrue(x.mul(2).requiresGrad());
            }
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled());
        assertTrue(x.mul(2).requiresGrad());
    }

    @Test
    void gradientsAccumulateIntoLeavesAcrossBackwardCalls() {
        Variable x = leaf(1, 2, 3);
        x.square().sum().backward();
        x.square().sum().backward();
        assertArrayEquals(new double[] {4, 8, 12}, x.grad().toDoubleArray());
        x.zeroGrad();
        assertNull(x.grad());
        Variable shared = leaf(3);
        shared.mul(shared).add(shared).sum().backward(); // d(x² + x) = 2x + 1, two paths into one leaf
        assertEquals(7, shared.grad().item());
    }

    @Test
    void graphIsReleasedAfterBackwardUnlessRetained() {
        Variable x = leaf(1, 2);
        Variable y = x.exp().sum();
        y.backward(Tensor.scalar(1, DType.F64), true);
        y.backward(Tensor.scalar(1, DType.F64), false);
        assertEquals(2 * Math.E, x.grad().toDoubleArray()[0], 1e-12);
        var e = assertThrows(IllegalStateException.class, y::backward);
        assertEquals("sum: backward through the graph a second time; its saved tensors were freed after the first backward "
                + "(pass retainGraph = true the first time)", e.getMessage());
    }

    @Test
    void inPlaceWriteToASavedTensorIsDetected() {
        Variable x = leaf(0.5, 1.0);
        Variable b = x.mul(2);
        Variable c = b.sin(); // sin saves b's data
        b.addInPlace(Variable.constant(Tensor.scalar(1, DType.F64)));
        var e = assertThrows(IllegalStateException.class, () -> c.sum().backward());
        assertEquals("sin: a tensor saved for its gradient (shape [2]) was modified by an in-place operation: saved at version 0, "
                + "now version 1", e.getMessage());
    }

    @Test
    void inPlaceOpsRecordTheirOwnGradient() {
        Variable x = leaf(0.5, 1.0);
        Variable b = x.mul(3);
        b.applyInPlace(dev.tessera.tensor.UnaryOp.EXP); // b = exp(3x)
        b.sum().backward();
        assertArrayEquals(new double[] {3 * Math.exp(1.5), 3 * Math.exp(3)}, x.grad().toDoubleArray(), 1e-12);
        var e = assertThrows(IllegalStateException.class, () -> x.mulInPlace(2));
        assertEquals("mul_: a leaf variable that requires grad is used in an in-place operation (use GradMode.noGrad() or update "
                + "data() directly)", e.getMessage());
        Variable plain = Variable.constant(Tensor.of(new double[] {1, 2}));
        plain.addInPlace(x); // a constant that absorbs a value requiring grad now requires grad
        assertTrue(plain.requiresGrad());
    }

    @Test
    void integerAndBooleanResultsAreNotDifferentiable() {
        Variable x = leaf(1, -1);
        Variable mask = x.apply(dev.tessera.tensor.BinaryOp.GT, Variable.constant(Tensor.scalar(0, DType.F64)));
        assertEquals(DType.BOOL, mask.dtype());
        assertFalse(mask.requiresGrad());
        var e = assertThrows(IllegalArgumentException.class, () -> Variable.of(Tensor.of(new int[] {1}), true));
        assertEquals("requiresGrad: only floating tensors can require grad, got I32", e.getMessage());
    }

    @Test
    void hooksSeeAndReplaceGradients() {
        Variable x = leaf(1, 2);
        double[] seen = new double[2];
        x.registerHook(g -> {
            seen[0] = g.toDoubleArray()[0];
            return g.mul(10);
        });
        Variable h = x.mul(3).retainGrad();
        h.registerHook(g -> g.mul(2));
        h.sum().backward();
        assertEquals(6, seen[0]);
        assertArrayEquals(new double[] {60, 60}, x.grad().toDoubleArray());
        assertArrayEquals(new double[] {2, 2}, h.grad().toDoubleArray());
    }

    @Test
    void checkpointedGradientsEqualThePlainRunBitwise() {
        Generator g = new Generator(9);
        Tensor w1 = Tensor.randn(g, DType.F32, 16, 32);
        Tensor w2 = Tensor.randn(g, DType.F32, 32, 8);
        Tensor input = Tensor.randn(g, DType.F32, 4, 16);
        Variable[] plain = {Variable.of(w1, true), Variable.of(w2, true)};
        Variable[] ckpt = {Variable.of(w1, true), Variable.of(w2, true)};
        java.util.function.BiFunction<Variable[], Variable, Variable> block = (w, x) -> x.matmul(w[0]).geluTanh().matmul(w[1]).tanh();
        block.apply(plain, Variable.constant(input)).square().mean().backward();
        Variable x = Variable.of(input, true);
        Variable xPlain = Variable.of(input, true);
        block.apply(plain, xPlain);
        Checkpoint.run(v -> block.apply(ckpt, v[0]), x).square().mean().backward();
        assertArrayEquals(plain[0].grad().toFloatArray(), ckpt[0].grad().toFloatArray());
        assertArrayEquals(plain[1].grad().toFloatArray(), ckpt[1].grad().toFloatArray());
        assertEquals(input.numel(), x.grad().numel());
    }

    @Test
    void customFunctionWithCorrectBackwardPassesGradcheck() {
        final class Cube extends CustomFunction {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                ctx.save(in[0]);
                return in[0].pow(3);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor g) {
                return new Tensor[] {g.mul(ctx.saved(0).square().mul(3))};
            }
        }
        GradCheck.check(v -> new Cube().call(v[0]), Tensor.of(new double[] {0.5, -1.25, 2}));
        assertEquals("Cube", new Cube().call(leaf(1)).opName());
    }

    @Test
    void dotExportShowsOpsAndNamedLeaves() {
        Variable w = leaf(1, 2).named("weight");
        Variable y = w.mul(w).exp().sum();
        String dot = GraphExport.toDot(y);
        assertTrue(dot.startsWith("digraph autograd {"), dot);
        assertTrue(dot.contains("label=\"sum []\""), dot);
        assertTrue(dot.contains("label=\"exp [2]\""), dot);
        assertTrue(dot.contains("shape=box, label=\"weight [2]\""), dot);
        assertEquals(4, dot.split("->").length - 1, dot); // weight->mul twice, mul->exp, exp->sum
    }

    @Test
    void backwardErrorsAreOneLine() {
        var scalar = assertThrows(IllegalStateException.class, () -> leaf(1, 2).mul(2).backward());
        assertEquals("backward: grad can be implicitly created only for one-element outputs, got shape [2]", scalar.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> leaf(1, 2).mul(2).backward(Tensor.zeros(DType.F64, 3)));
        assertEquals("backward: gradient shape [3] does not match output shape [2]", shape.getMessage());
        var none = assertThrows(IllegalStateException.class, () -> Variable.constant(Tensor.scalar(1)).backward());
        assertEquals("backward: the tensor does not require grad and has no graph (shape [])", none.getMessage());
    }
}
