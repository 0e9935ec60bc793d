package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Tensor and Variable offer the same ops; every public method name that only one of them has is
 * listed here with the reason, so adding an op to one side only fails this test until the other
 * side gets it or the difference is written down.
 */
class ApiParityTest {

    /** Tensor-only names, by reason. */
    private static final Set<String> TENSOR_ONLY = Set.of(
            // factories: a Variable wraps one (Variable.constant, Variable.named)
            "arange", "eye", "full", "fullLike", "linspace", "ones", "rand", "randint", "randn", "scalar", "zeros", "zerosLike",
            // storage, layout and element access: read them through Variable.data()
            "asStrided", "copy", "device", "getDouble", "getFloat", "getLong", "heapContiguous", "isContiguous", "numel", "offset",
            "set", "storage", "stride", "strides", "toDoubleArray", "toFloatArray", "toLongArray",
            // in-place writes into a tensor's storage, which autograd would not see
            "applyInto", "copyFromInPlace", "divInPlace", "fillInPlace", "matmulAddInto", "matmulInto", "subInPlace",
            // boolean masks and integer indices have no gradient: compute them on data()
            "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalNot", "logicalOr", "argmax", "argmin", "argsort", "multinomial",
            "oneHot",
            // kernels that Variable ops call from their backward
            "maskedSoftmax", "softmaxBackward");

    /** Variable-only names: the autograd machinery itself. */
    private static final Set<String> VARIABLE_ONLY = Set.of("backward", "constant", "data", "detach", "grad", "isLeaf", "named", "opName",
            "moveTo", "registerHook", "requiresGrad", "retainGrad", "setGrad", "zeroGrad");

    private static Set<String> publicNames(Class<?> type) {
        return Arrays.stream(type.getDeclaredMethods()).filter(m -> Modifier.isPublic(m.getModifiers()) && !m.isSynthetic())
                .map(Method::getName).filter(n -> !Set.of("equals", "hashCode", "toString").contains(n))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void tensorAndVariableDifferOnlyWhereListed() {
        Set<String> tensor = publicNames(Tensor.class);
        Set<String> variable = publicNames(Variable.class);
        Set<String> tensorOnly = new TreeSet<>(tensor);
        tensorOnly.removeAll(variable);
        Set<String> variableOnly = new TreeSet<>(variable);
        variableOnly.removeAll(tensor);
        assertEquals(new TreeSet<>(TENSOR_ONLY), tensorOnly, "Tensor-only methods");
        assertEquals(new TreeSet<>(VARIABLE_ONLY), variableOnly, "Variable-only methods");
    }

    /** topk and sort values are gathers at the tensor's indices: equal values, gradient only to the chosen elements. */
    @Test
    void topkAndSortAreDifferentiable() {
        Tensor data = Tensor.of(new double[] {0.3, -1.2, 2.5, 0.9, -0.4, 1.7}, 2, 3);
        Variable x = Variable.of(data, true);
        Variable top = x.topk(2, 1, true);
        assertArrayEquals(data.topk(2, 1, true).values().toDoubleArray(), top.data().toDoubleArray(), 0);
        assertArrayEquals(data.sort(1, false).values().toDoubleArray(), x.sort(1, false).data().toDoubleArray(), 0);
        top.sum().backward();
        assertArrayEquals(new double[] {1, 0, 1, 1, 0, 1}, x.grad().toDoubleArray(), 0);
        GradCheck.check(in -> in[0].topk(2, 1, false).mul(in[0].sort(1, true).narrow(1, 0, 2)), data);
        assertArrayEquals(new int[] {2, 3}, Variable.constant(Tensor.of(new double[] {1, 2, 3}, 1, 3)).expandAs(x).shape());
    }

    @Test
    void scalarComparisonsAndReverseSubtraction() {
        Tensor x = Tensor.of(new double[] {-1, 0, 2}, 3);
        assertArrayEquals(new long[] {1, 0, 1}, x.ne(0).toLongArray());
        assertArrayEquals(new long[] {1, 1, 0}, x.le(0).toLongArray());
        assertArrayEquals(new long[] {0, 1, 1}, x.ge(0).toLongArray());
        assertArrayEquals(new double[] {4, 3, 1}, x.rsub(3).toDoubleArray(), 0);
    }

    @Test
    void signSqueezeAndScalarMaximumMinimum() {
        Variable x = Variable.of(Tensor.of(new double[] {-1.5, 0, 2.5}, 1, 3, 1), true);
        assertArrayEquals(new int[] {3}, x.squeeze().shape());
        Variable y = x.sign().add(x.maximum(0.5)).add(x.minimum(0.5)).sum();
        y.backward();
        assertEquals(-1 + 0 + 1 + (0.5 + 0.5 + 2.5) + (-1.5 + 0 + 0.5), y.item(), 0);
        // sign: no gradient; maximum: x wins only at 2.5; minimum: x wins at −1.5 and 0
        assertArrayEquals(new double[] {1, 1, 1}, x.grad().toDoubleArray(), 0);
        GradCheck.check(in -> in[0].maximum(0.25).mul(in[0].minimum(-0.25)).add(in[0].sign()),
                Tensor.of(new double[] {-1.5, -0.1, 0.3, 2.5}, 4).to(DType.F64));
    }
}
