package dev.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;

/**
 * The three kinds of CPU storage a tensor can sit on, for tests that every kernel reads and writes
 * each: a heap array, an off-heap segment ({@link Storage#ofSegment} over Arena memory, here at a
 * non-zero offset) and a read-only memory mapping (what {@link SafeTensors#read} returns).
 */
public final class StorageKinds {
    private StorageKinds() {}

    public enum Kind { HEAP, OFF_HEAP, MAPPED }

    /** The two compute dtypes every fused kernel is checked in, with their tolerances. */
    public static final double F32_TOL = 1e-6;
    public static final double F64_TOL = 1e-12;
    public static final DType[] DTYPES = {DType.F32, DType.F64};

    public static double tol(DType dtype) {
        return dtype == DType.F64 ? F64_TOL : F32_TOL;
    }

    /** Seeded standard-normal values of {@code shape}. */
    public static Tensor randn(long seed, DType dtype, int... shape) {
        return Tensor.randn(new Generator(seed), dtype, shape);
    }

    /** The values of {@code t} on a fresh storage of {@code kind}. */
    public static Tensor as(Kind kind, Tensor t) {
        return switch (kind) {
            case HEAP -> t.copy();
            case OFF_HEAP -> offHeap(t);
            case MAPPED -> mapped(t);
        };
    }

    private static Tensor offHeap(Tensor t) {
        int pad = 3;
        int n = t.numel();
        MemorySegment memory = Arena.ofAuto().allocate((long) (n + pad) * t.dtype().byteSize(), 8);
        Tensor view = Tensor.of(Storage.ofSegment(t.dtype(), memory), n + pad).narrow(0, pad, n).reshape(t.shape());
        view.copyFromInPlace(t);
        return view;
    }

    private static Tensor mapped(Tensor t) {
        try {
            Path file = Files.createTempFile("tessera-storage-kinds", ".safetensors");
            file.toFile().deleteOnExit();
            SafeTensors.write(file, Map.of("t", t), null);
            Tensor m = SafeTensors.read(file).get("t");
            assertEquals(null, m.storage().array(), "a mapped tensor has no heap array");
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code fn} on leaves holding {@code inputs} and back-propagates {@code grad}, all on
     * {@code kind} storage; returns the output followed by each input's gradient (null where none).
     */
    public static Tensor[] forwardBackward(Kind kind, Function<Variable[], Variable> fn, Tensor grad, Tensor... inputs) {
        Variable[] leaves = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            leaves[i] = Variable.of(as(kind, inputs[i]), inputs[i].dtype().isFloating());
        }
        Variable out = fn.apply(leaves);
        out.backward(as(kind, grad));
        Tensor[] result = new Tensor[inputs.length + 1];
        result[0] = out.data();
        for (int i = 0; i < inputs.length; i++) {
            result[i + 1] = leaves[i].grad();
        }
        return result;
    }

    /**
     * Asserts that {@code fn} gives, on off-heap and on mapped storage, the output and gradients it
     * gives on the heap (to {@code tol} relative to each tensor's largest magnitude).
     */
    public static void assertSameOnEveryKind(String what, double tol, Function<Variable[], Variable> fn, Tensor grad, Tensor... inputs) {
        Tensor[] heap = forwardBackward(Kind.HEAP, fn, grad, inputs);
        for (Kind kind : new Kind[] {Kind.OFF_HEAP, Kind.MAPPED}) {
            Tensor[] got = forwardBackward(kind, fn, grad, inputs);
            for (int i = 0; i < heap.length; i++) {
                String label = what + " on " + kind + (i == 0 ? ": output" : ": gradient of input " + (i - 1));
                if (heap[i] == null) {
                    assertEquals(null, got[i], label);
                    continue;
                }
                assertArrayEquals(heap[i].shape(), got[i].shape(), label);
                assertEquals(heap[i].dtype(), got[i].dtype(), label);
                double[] expected = heap[i].to(DType.F64).toDoubleArray();
                double scale = Arrays.stream(expected).map(Math::abs).max().orElse(0);
                assertArrayEquals(expected, got[i].to(DType.F64).toDoubleArray(), tol * Math.max(1, scale), label);
            }
        }
    }
}
