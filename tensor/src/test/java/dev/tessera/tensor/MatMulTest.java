package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

/** matmul's NumPy semantics (vectors, batch broadcasting, strided operands) against Commons Math. */
class MatMulTest {

    static RealMatrix matrix(Tensor t2d) {
        double[][] d = new double[t2d.size(0)][t2d.size(1)];
        for (int i = 0; i < d.length; i++) {
            for (int j = 0; j < d[i].length; j++) {
                d[i][j] = t2d.getDouble(i, j);
            }
        }
        return new Array2DRowRealMatrix(d, false);
    }

    @Provide
    Arbitrary<int[]> batch() {
        return Arbitraries.integers().between(1, 3).array(int[].class).ofMinSize(0).ofMaxSize(2);
    }

    @Property(tries = 200)
    void batchedMatmulBroadcastsAndMatchesCommonsMath(@ForAll("batch") int[] batchA, @ForAll @IntRange(min = 0, max = 2) int dropB,
            @ForAll @IntRange(min = 1, max = 40) int m, @ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll @IntRange(min = 0, max = 40) int k, @ForAll boolean transA, @ForAll boolean transB,
            @ForAll boolean oneB, @ForAll long seed, @ForAll boolean f64) {
        int[] batchB = Arrays.copyOfRange(batchA, Math.min(dropB, batchA.length), batchA.length);
        if (oneB && batchB.length > 0) {
            batchB[0] = 1; // broadcast a batch dim of B
        }
        DType dt = f64 ? DType.F64 : DType.F32;
        Tensor a = operand(batchA, m, k, transA, seed, dt);
        Tensor b = operand(batchB, k, n, transB, seed + 1, dt);
        Tensor c = a.matmul(b);
        int[] batch = Shapes.broadcast("test", batchA, batchB);
        int[] expectShape = Arrays.copyOf(batch, batch.length + 2);
        expectShape[batch.length] = m;
        expectShape[batch.length + 1] = n;
        assertArrayEquals(expectShape, c.shape());
        double eps = f64 ? 0x1p-52 : Ref.F32_EPS;
        for (long i = 0; i < Shapes.numel(batch); i++) {
            int[] idx = Ref.unravel(i, batch);
            // an empty inner dim gives zeros (Commons Math has no 0-column matrices)
            RealMatrix expected = k == 0 ? new Array2DRowRealMatrix(m, n) : matrix(pick(a, idx)).multiply(matrix(pick(b, idx)));
            Tensor got = c;
            for (int d : idx) {
                got = got.select(0, d);
            }
            double[] flat = new double[m * n];
            for (int r = 0; r < m; r++) {
                System.arraycopy(expected.getRow(r), 0, flat, r * n, n);
            }
            Ref.assertClose("matmul batch " + Arrays.toString(idx), flat, got, 2 * eps * Math.max(k, 1), 2 * eps * Math.max(k, 1));
        }
    }

    @Property(tries = 100)
    void matmulIntoAStridedBlockGivesMatmulsBits(@ForAll("batch") int[] batch, @ForAll @IntRange(min = 1, max = 40) int m,
            @ForAll @IntRange(min = 1, max = 40) int n, @ForAll @IntRange(min = 0, max = 40) int k, @ForAll boolean transA,
            @ForAll boolean transB, @ForAll boolean rowsOutermost, @ForAll long seed, @ForAll boolean f64) {
        DType dt = f64 ? DType.F64 : DType.F32;
        Tensor a = operand(batch, m, k, transA, seed, dt);
        Tensor b = operand(batch, k, n, transB, seed + 1, dt);
        // out: an (m, n) block of a buffer with a spare row and spare columns, its rows outermost in
        // memory when asked (heads written into a (B, T, H, D) buffer), batch dims outermost otherwise
        int rank = batch.length + 2;
        int[] order = new int[rank]; // memory order of (batch..., m, n)
        for (int d = 0; d < rank; d++) {
            order[d] = rowsOutermost ? (d == 0 ? batch.length : d - 1) : d;
        }
        order[rank - 1] = rank - 1;
        int[] physical = new int[rank];
        int[] logical = Arrays.copyOf(batch, rank);
        logical[batch.length] = m;
        logical[batch.length + 1] = n;
        int[] back = new int[rank];
        for (int d = 0; d < rank; d++) {
            physical[d] = logical[order[d]] + (order[d] == batch.length ? 1 : order[d] == rank - 1 ? 3 : 0);
            back[order[d]] = d;
        }
        Tensor buffer = Tensor.full(7, dt, physical);
        Tensor out = buffer.permute(back).narrow(batch.length, 1, m).narrow(rank - 1, 2, n);
        assertSame(out, a.matmulInto(b, out));
        assertArrayEquals(a.matmul(b).toDoubleArray(), out.toDoubleArray(), 0.0);
        out.fillInPlace(7);
        assertTrue(Arrays.stream(buffer.toDoubleArray()).allMatch(v -> v == 7), "matmul_into wrote outside its block");
        // matmulAddInto: the block gets 7 + a·b, the rest of the buffer stays 7
        assertSame(out, a.matmulAddInto(b, out));
        double[] expected = a.matmul(b).toDoubleArray();
        double[] actual = out.toDoubleArray();
        double tolerance = f64 ? 1e-12 : 1e-5;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(7 + expected[i], actual[i], tolerance * (8 + Math.abs(expected[i])), "matmul_add_into at " + i);
        }
        out.fillInPlace(7);
        assertTrue(Arrays.stream(buffer.toDoubleArray()).allMatch(v -> v == 7), "matmul_add_into wrote outside its block");
    }

    /** (batch..., rows, cols), stored transposed when asked, values in [-1, 1]. */
    static Tensor operand(int[] batch, int rows, int cols, boolean transposed, long seed, DType dt) {
        int[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = transposed ? cols : rows;
        shape[batch.length + 1] = transposed ? rows : cols;
        Tensor t = Ref.uniform(new Generator(seed), shape, dt, -1, 1);
        return transposed ? t.mT() : t;
    }

    /** The 2-d matrix of a batched operand at broadcast batch index idx. */
    static Tensor pick(Tensor t, int[] idx) {
        int lead = idx.length - (t.rank() - 2);
        Tensor r = t;
        for (int d = 0; d < t.rank() - 2; d++) {
            r = r.select(0, t.size(d) == 1 ? 0 : idx[lead + d]);
        }
        return r;
    }

    @Test
    void vectorFormsAndIntegerAndHalfInputs() {
        Tensor v = Tensor.of(new float[] {1, 2, 3});
        Tensor m = Tensor.arange(0, 6, 1, DType.F32).reshape(3, 2);
        assertEquals(14.0, v.matmul(v).item());
        assertEquals(0, v.matmul(v).rank());
        assertArrayEquals(new float[] {16, 22}, v.matmul(m).toFloatArray());
        assertArrayEquals(new float[] {16, 22}, m.mT().matmul(v).toFloatArray());
        Tensor i = Tensor.of(new long[] {1, 2, 3, 4}).reshape(2, 2);
        assertArrayEquals(new long[] {7, 10, 15, 22}, i.matmul(i).toLongArray());
        assertEquals(DType.I64, i.matmul(i).dtype());
        Tensor h = m.to(DType.BF16);
        Tensor hv = v.to(DType.BF16).matmul(h);
        assertEquals(DType.BF16, hv.dtype());
        assertArrayEquals(new float[] {16, 22}, hv.toFloatArray());
    }

    @Test
    void stridedSliceOperandIsReadInPlace() {
        Tensor base = Tensor.arange(0, 60, 1, DType.F32).reshape(6, 10);
        Tensor a = base.slice(1, 1, 10, 3).slice(0, 0, 6, 2); // (3, 3) with strides (20, 3)
        Tensor b = Tensor.eye(3, DType.F32);
        assertArrayEquals(a.contiguous().toFloatArray(), a.matmul(b).toFloatArray());
        Tensor expanded = Tensor.of(new float[] {1, 1, 1}).reshape(1, 3, 1).expand(4, 3, 1);
        assertArrayEquals(new int[] {4, 3, 1}, Tensor.zeros(4, 3, 3).add(1).matmul(expanded).shape());
    }

    @Test
    void errorsNameShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)));
        assertEquals("matmul: shapes [2, 3] and [4, 5] do not match (3 != 4)", e.getMessage());
        var b = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 2, 3).matmul(Tensor.zeros(3, 3, 5)));
        assertEquals("matmul: shapes [2] and [3] cannot be broadcast (dim 0: 2 vs 3)", b.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> Tensor.scalar(1).matmul(Tensor.zeros(3)));
        assertEquals("matmul: both operands need at least 1 dim, got shapes [] and [3]", s.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).matmulInto(Tensor.zeros(3, 5), Tensor.zeros(2, 4)));
        assertEquals("matmul_into: product [2, 5] F32 does not fit out [2, 4] F32", o.getMessage());
    }
}
