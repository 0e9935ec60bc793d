package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.StorageKinds;
import dev.tessera.nn.StorageKinds.Kind;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The optimizers' update loops and gradient clipping give the same result when parameters sit on
 * off-heap storage and gradients on off-heap or memory-mapped (read-only) storage as on the heap.
 */
class OptimizerStorageKindsTest {

    static List<Variable> onKind(Kind kind, List<Variable> ps) {
        List<Variable> out = new ArrayList<>();
        for (Variable p : ps) {
            out.add(Variable.of(StorageKinds.as(kind, p.data()), true));
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("dev.tessera.nn.optim.OptimizerStateTest#kinds")
    void stepsMatchTheHeapOnOffHeapParametersAndMappedGradients(OptimizerStateTest.Kind kind) {
        Generator g = new Generator(3);
        List<Variable> heap = OptimizerStateTest.params(g);
        List<Variable> offHeap = onKind(Kind.OFF_HEAP, heap);
        Optimizer a = kind.make().apply(OptimizerStateTest.groups(heap));
        Optimizer b = kind.make().apply(OptimizerStateTest.groups(offHeap));
        for (int s = 0; s < 3; s++) {
            Kind gradKind = s % 2 == 0 ? Kind.MAPPED : Kind.OFF_HEAP;
            for (int i = 0; i < heap.size(); i++) {
                Tensor grad = Tensor.randn(g, heap.get(i).dtype(), heap.get(i).shape());
                heap.get(i).setGrad(grad);
                offHeap.get(i).setGrad(StorageKinds.as(gradKind, grad));
            }
            a.step();
            b.step();
        }
        for (int i = 0; i < heap.size(); i++) {
            assertEquals(null, offHeap.get(i).data().storage().array(), "the parameter stays on its own storage");
            assertArrayEquals(heap.get(i).data().toFloatArray(), offHeap.get(i).data().toFloatArray(), kind + " parameter " + i);
        }
        assertEquals(a.stateDict().keySet(), b.stateDict().keySet());
        for (var e : a.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toDoubleArray(), b.stateDict().get(e.getKey()).toDoubleArray(), kind + " " + e.getKey());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void clippingReadsAndScalesGradientsOnEveryStorage(Kind kind) {
        Generator g = new Generator(4);
        List<Variable> heap = OptimizerStateTest.params(g);
        List<Variable> other = OptimizerStateTest.params(new Generator(4));
        for (int i = 0; i < heap.size(); i++) {
            Tensor grad = Tensor.randn(g, heap.get(i).dtype(), heap.get(i).shape()).mul(3);
            heap.get(i).setGrad(grad);
            other.get(i).setGrad(StorageKinds.as(kind, grad));
        }
        double expected = GradClip.clipGlobalNorm(heap, 0.5);
        assertEquals(expected, GradClip.clipGlobalNorm(other, 0.5));
        for (int i = 0; i < heap.size(); i++) {
            assertArrayEquals(heap.get(i).grad().toFloatArray(), other.get(i).grad().toFloatArray(), kind + " gradient " + i);
        }
    }
}
