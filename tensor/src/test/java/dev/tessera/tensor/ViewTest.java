package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** Views share storage and read the right elements; copies happen only where documented. */
class ViewTest {
    static Tensor iota(int... shape) {
        return Tensor.arange(0, Shapes.numel(shape), 1, DType.F32).reshape(shape);
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Ref.shapes().filter(s -> s.length >= 2);
    }

    @Property(tries = 200)
    void permuteTransposeAndContiguousAgreeWithIndexMath(@ForAll("shapes") int[] shape, @ForAll long seed) {
        Tensor x = Ref.make(shape, seed, Ref.Layout.CONTIGUOUS, DType.F32, -1, 1);
        int r = shape.length;
        int[] perm = java.util.stream.IntStream.range(0, r).map(i -> r - 1 - i).toArray();
        Tensor p = x.permute(perm);
        assertSame(x.storage(), p.storage());
        Tensor c = p.contiguous();
        double[] cv = Ref.values(c);
        for (int i = 0; i < cv.length; i++) {
            int[] idx = Ref.unravel(i, c.shape());
            int[] src = new int[r];
            for (int d = 0; d < r; d++) {
                src[perm[d]] = idx[d];
            }
            assertEquals(x.getDouble(src), cv[i]);
        }
        Tensor flat = p.reshape(-1);
        assertArrayEquals(c.toFloatArray(), flat.toFloatArray());
    }

    @Test
    void viewFollowsStrideCompatibilityAndReshapeCopiesOnlyWhenNeeded() {
        Tensor x = iota(2, 3, 4);
        Tensor v = x.view(6, 4);
        assertSame(x.storage(), v.storage());
        assertSame(x.storage(), x.view(2, -1).storage());
        Tensor t = x.transpose(1, 2); // (2, 4, 3), not viewable as (2, 12)
        var e = assertThrows(IllegalArgumentException.class, () -> t.view(2, 12));
        assertEquals("view: shape [2, 12] is not compatible with strides [12, 1, 4] of shape [2, 4, 3]; call reshape() to copy",
                e.getMessage());
        assertNotSame(x.storage(), t.reshape(2, 12).storage());
        assertSame(x.storage(), t.reshape(2, 4, 3).storage());
        assertSame(x.storage(), x.transpose(0, 1).reshape(3, 2, 2, 2).transpose(0, 0).storage() == x.storage() ? x.storage() : null);
        assertSame(x, x.contiguous());
        var bad = assertThrows(IllegalArgumentException.class, () -> x.view(5, -1));
        assertEquals("view: shape [5, -1] is invalid for input of size 24", bad.getMessage());
    }

    @Test
    void sliceNarrowSelectSqueezeExpand() {
        Tensor x = iota(4, 5);
        assertArrayEquals(new float[] {1, 3, 6, 8, 11, 13, 16, 18}, x.slice(1, 1, 5, 2).toFloatArray());
        assertArrayEquals(new float[] {10, 11, 12, 13, 14}, x.select(0, -2).toFloatArray());
        assertArrayEquals(new float[] {5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, x.narrow(0, 1, 2).toFloatArray());
        assertArrayEquals(new int[] {0, 5}, x.slice(0, 7, 9, 1).shape());
        assertArrayEquals(new int[] {4, 1, 5}, x.unsqueeze(1).shape());
        assertArrayEquals(new int[] {4, 5}, x.unsqueeze(1).squeeze().shape());
        assertArrayEquals(new int[] {4, 5}, x.squeeze(0).shape());
        Tensor col = Tensor.of(new float[] {1, 2, 3}).reshape(3, 1);
        Tensor e = col.expand(2, 3, 4);
        assertArrayEquals(new int[] {0, 1, 0}, e.strides());
        assertEquals(24, e.numel());
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, e.select(0, 1).toFloatArray());
        var err = assertThrows(IllegalArgumentException.class, () -> col.expand(2, 4));
        assertEquals("expand: cannot broadcast [3, 1] to [2, 4] (dim 0)", err.getMessage());
    }

    @Test
    void flattenUnflattenSplitChunkDiagonal() {
        Tensor x = iota(2, 3, 4);
        assertArrayEquals(new int[] {6, 4}, x.flatten(0, 1).shape());
        assertArrayEquals(new int[] {2, 12}, x.flatten(1, -1).shape());
        assertArrayEquals(new int[] {2, 3, 2, 2}, x.unflatten(-1, 2, -1).shape());
        Tensor[] parts = x.split(3, 2);
        assertEquals(2, parts.length);
        assertArrayEquals(new int[] {2, 3, 1}, parts[1].shape());
        assertEquals(7f, parts[1].getFloat(0, 1, 0));
        Tensor[] chunks = x.chunk(2, 1);
        assertArrayEquals(new int[] {2, 2, 4}, chunks[0].shape());
        assertArrayEquals(new int[] {2, 1, 4}, chunks[1].shape());
        Tensor[] sized = x.split(new int[] {1, 3}, 2);
        assertArrayEquals(new int[] {2, 3, 3}, sized[1].shape());
        Tensor m = iota(3, 4);
        assertArrayEquals(new float[] {0, 5, 10}, m.diagonal(0, 0, 1).toFloatArray());
        assertArrayEquals(new float[] {1, 6, 11}, m.diagonal(1, 0, 1).toFloatArray());
        assertArrayEquals(new float[] {4, 9}, m.diagonal(-1, 0, 1).toFloatArray());
        assertArrayEquals(new int[] {2, 3}, x.diagonal(0, 1, 2).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> x.split(new int[] {1, 2}, 2));
        assertEquals("split: sizes [1, 2] sum to 3 but dim 2 has size 4", e.getMessage());
    }

    @Test
    void catAndStackCopy() {
        Tensor a = iota(2, 2);
        Tensor b = iota(2, 2).add(10);
        Tensor c = Tensor.cat(1, a, b);
        assertArrayEquals(new float[] {0, 1, 10, 11, 2, 3, 12, 13}, c.toFloatArray());
        Tensor s = Tensor.stack(0, a, b);
        assertArrayEquals(new int[] {2, 2, 2}, s.shape());
        assertArrayEquals(new float[] {10, 11, 12, 13}, s.select(0, 1).toFloatArray());
        Tensor ct = Tensor.cat(0, a.mT(), b);
        assertArrayEquals(new float[] {0, 2, 1, 3, 10, 11, 12, 13}, ct.toFloatArray());
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.cat(0, a, iota(2, 3)));
        assertEquals("cat: tensor 1 has shape [2, 3] but tensor 0 has [2, 2] (only dim 0 may differ)", e.getMessage());
    }

    @Test
    void linspaceOfOneStepIsStartAndOfTwoIsBothEnds() {
        // PyTorch: a single step is the start, not the end
        assertArrayEquals(new double[] {-1.5}, Tensor.linspace(-1.5, 3.25, 1, DType.F64).toDoubleArray());
        assertArrayEquals(new double[] {-1.5, 3.25}, Tensor.linspace(-1.5, 3.25, 2, DType.F64).toDoubleArray());
        assertEquals(0, Tensor.linspace(-1.5, 3.25, 0, DType.F64).numel());
    }

    @Test
    void squeezeOfAZeroDimTensorByDimZeroOrMinusOneIsTheTensor() {
        Tensor s = Tensor.scalar(2.5, DType.F64);
        for (int dim : new int[] {0, -1}) {
            Tensor q = s.squeeze(dim);
            assertEquals(0, q.rank());
            assertEquals(2.5, q.item());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> s.squeeze(1));
        assertEquals("squeeze: dim 1 out of range for a 0-d tensor (expected 0 or -1)", e.getMessage());
    }

    @Test
    void creationFunctions() {
        assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f, 1}, Tensor.linspace(0, 1, 5, DType.F32).toFloatArray());
        assertArrayEquals(new long[] {0, 1, 2}, Tensor.arange(3).toLongArray());
        assertArrayEquals(new float[] {1, 0.5f, 0, -0.5f}, Tensor.arange(1, -1, -0.5, DType.F32).toFloatArray());
        assertArrayEquals(new float[] {1, 0, 0, 1}, Tensor.eye(2, DType.F32).toFloatArray());
        assertArrayEquals(new float[] {7, 7}, Tensor.full(7, DType.F32, 2).toFloatArray());
        Tensor r1 = Tensor.randn(new Generator(42), DType.F32, 1000);
        Parallel.setThreads(1);
        try {
            Tensor r2 = Tensor.randn(new Generator(42), DType.F32, 1000);
            assertArrayEquals(r1.toFloatArray(), r2.toFloatArray());
        } finally {
            Parallel.setThreads(Runtime.getRuntime().availableProcessors());
        }
        double mean = r1.mean().item();
        double std = r1.std(1, false).item();
        assertEquals(0, mean, 0.1);
        assertEquals(1, std, 0.1);
        Tensor ri = Tensor.randint(new Generator(1), 3, 7, DType.I64, 500);
        assertEquals(3, ri.min(false).item());
        assertEquals(6, ri.max(false).item());
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertEquals("zeros: negative size in shape [2, -1]", e.getMessage());
    }

    @Test
    void printsLikePyTorch() {
        assertEquals("tensor([[0., 1., 2.],\n        [3., 4., 5.]])", iota(2, 3).toString());
        assertEquals("tensor([0.5000, 1.2500])", Tensor.of(new float[] {0.5f, 1.25f}).toString());
        assertEquals("tensor([1, 2, 3], dtype=torch.int32)", Tensor.of(new int[] {1, 2, 3}).toString());
        assertEquals("tensor([ True, False])", Tensor.of(new boolean[] {true, false}).toString());
        assertEquals("tensor(3.5000)", Tensor.scalar(3.5).toString());
        assertEquals("tensor([1.0000e-05, 1.0000e+00])", Tensor.of(new float[] {1e-5f, 1}).toString());
        assertEquals("tensor([ 1, 10, -3])", Tensor.of(new long[] {1, 10, -3}).toString());
        // python: repr(torch.arange(2000.)) (PyTorch also wraps lines at 80 columns, which we do not)
        assertEquals("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03, 1.9990e+03])",
                Tensor.arange(0, 2000, 1, DType.F32).toString());
        assertEquals("tensor([[   0,    1,    2,  ...,  997,  998,  999],\n        [1000, 1001, 1002,  ..., 1997, 1998, 1999]])",
                Tensor.arange(2000).reshape(2, 1000).toString());
        assertEquals("tensor([], size=(0, 3))", Tensor.zeros(0, 3).toString());
    }
}
