package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The fused masked softmax (forward over each row's allowed span only) and the fused softmax
 * backward, in F32 and F64, against naive double-precision loops: random masks with interior holes,
 * rows with nothing allowed, a mask broadcast over a middle dim, and row lengths around the
 * vector width.
 */
class SoftmaxKernelsTest {
    @Property(tries = 60)
    void maskedSoftmaxMatchesReference(@ForAll @IntRange(min = 1, max = 3) int heads, @ForAll @IntRange(min = 1, max = 5) int rows,
            @ForAll @IntRange(min = 1, max = 40) int n, @ForAll boolean f32, @ForAll long seed) {
        Generator g = new Generator(seed);
        DType dt = f32 ? DType.F32 : DType.F64;
        Tensor x = Tensor.randn(g, dt, 2, heads, rows, n).mul(3);
        Tensor allowed = Tensor.rand(g, DType.F64, 2, 1, rows, n).gt(0.4); // broadcast over heads
        double scale = 0.7;
        Tensor y = x.maskedSoftmax(allowed, scale);
        double[] xs = x.toDoubleArray();
        double[] ys = y.toDoubleArray();
        double[] ms = allowed.to(DType.F64).toDoubleArray();
        double tol = f32 ? 1e-6 : 1e-14;
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < heads; h++) {
                for (int r = 0; r < rows; r++) {
                    int o = ((b * heads + h) * rows + r) * n;
                    int mo = (b * rows + r) * n;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < n; i++) {
                        if (ms[mo + i] != 0) {
                            max = Math.max(max, xs[o + i] * scale);
                        }
                    }
                    double sum = 0;
                    for (int i = 0; i < n; i++) {
                        sum += ms[mo + i] != 0 ? Math.exp(xs[o + i] * scale - max) : 0;
                    }
                    for (int i = 0; i < n; i++) {
                        double expect = ms[mo + i] != 0 ? Math.exp(xs[o + i] * scale - max) / sum : 0;
                        assertEquals(expect, ys[o + i], tol, "row " + r + " col " + i);
                    }
                }
            }
        }
    }

    @Property(tries = 60)
    void softmaxBackwardMatchesReference(@ForAll @IntRange(min = 1, max = 4) int rows, @ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll boolean f32, @ForAll long seed) {
        Generator g = new Generator(seed);
        DType dt = f32 ? DType.F32 : DType.F64;
        Tensor y = Tensor.randn(g, dt, rows, n).softmax(-1);
        Tensor grad = Tensor.randn(g, dt, rows, n);
        double scale = 1.3;
        double[] dx = y.softmaxBackward(grad, scale).toDoubleArray();
        double[] ys = y.toDoubleArray();
        double[] gs = grad.toDoubleArray();
        double tol = f32 ? 1e-6 : 1e-14;
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int i = 0; i < n; i++) {
                dot += gs[r * n + i] * ys[r * n + i];
            }
            for (int i = 0; i < n; i++) {
                assertEquals(scale * ys[r * n + i] * (gs[r * n + i] - dot), dx[r * n + i], tol * (1 + Math.abs(dot)));
            }
        }
    }

    @Test
    void softmaxBackwardRejectsMismatchedShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(DType.F32, 2, 3).softmaxBackward(Tensor.zeros(DType.F32, 3, 2), 1));
        assertEquals("softmax_backward: probabilities [2, 3] and gradient [3, 2] differ in shape", e.getMessage());
    }
}
