package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** End-to-end: a small MLP trained by plain SGD, against a hand-written double-precision twin; flat heap. */
class TrainingTest {
    static final int IN = 3;
    static final int HIDDEN = 16;
    static final int N = 64;

    /** Toy regression target y = sin(x0) + x1·x2. */
    static double[][] data(Generator g) {
        double[][] xy = new double[N][IN + 1];
        for (double[] row : xy) {
            for (int j = 0; j < IN; j++) {
                row[j] = g.nextDouble() * 2 - 1;
            }
            row[IN] = Math.sin(row[0]) + row[1] * row[2];
        }
        return xy;
    }

    /** The reference: forward and backward of tanh-MLP + MSE written out by hand in double. */
    static double referenceStep(double[][] xy, double[][] w1, double[] b1, double[] w2, double[] b2, double lr) {
        double loss = 0;
        double[][] gw1 = new double[HIDDEN][IN];
        double[] gb1 = new double[HIDDEN];
        double[] gw2 = new double[HIDDEN];
        double gb2 = 0;
        for (double[] row : xy) {
            double[] h = new double[HIDDEN];
            double out = b2[0];
            for (int i = 0; i < HIDDEN; i++) {
                double z = b1[i];
                for (int j = 0; j < IN; j++) {
                    z += w1[i][j] * row[j];
                }
                h[i] = Math.tanh(z);
                out += w2[i] * h[i];
            }
            double err = out - row[IN];
            loss += err * err / N;
            double dOut = 2 * err / N;
            gb2 += dOut;
            for (int i = 0; i < HIDDEN; i++) {
                gw2[i] += dOut * h[i];
                double dz = dOut * w2[i] * (1 - h[i] * h[i]);
                gb1[i] += dz;
                for (int j = 0; j < IN; j++) {
                    gw1[i][j] += dz * row[j];
                }
            }
        }
        for (int i = 0; i < HIDDEN; i++) {
            b1[i] -= lr * gb1[i];
            w2[i] -= lr * gw2[i];
            for (int j = 0; j < IN; j++) {
                w1[i][j] -= lr * gw1[i][j];
            }
        }
        b2[0] -= lr * gb2;
        return loss;
    }

    record Mlp(Variable w1, Variable b1, Variable w2, Variable b2) {
        Variable loss(Tensor x, Tensor y) {
            Variable pred = Variable.constant(x).matmul(w1.mT()).add(b1).tanh().matmul(w2.mT()).add(b2);
            return pred.sub(Variable.constant(y)).square().mean();
        }

        void sgd(double lr) {
            for (Variable p : new Variable[] {w1, b1, w2, b2}) {
                p.data().subInPlace(p.grad().mul(lr));
                p.zeroGrad();
            }
        }
    }

    static Mlp init(Generator g, DType dt) {
        return new Mlp(Variable.of(Tensor.randn(g, dt, HIDDEN, IN).mul(0.5), true), Variable.of(Tensor.zeros(dt, HIDDEN), true),
                Variable.of(Tensor.randn(g, dt, 1, HIDDEN).mul(0.3), true), Variable.of(Tensor.zeros(dt, 1), true));
    }

    @Test
    void sgdOnAnMlpFollowsTheHandWrittenReference() {
        double[][] xy = data(new Generator(1));
        Tensor x = Tensor.zeros(DType.F64, N, IN);
        Tensor y = Tensor.zeros(DType.F64, N, 1);
        for (int r = 0; r < N; r++) {
            for (int j = 0; j < IN; j++) {
                x.set(xy[r][j], r, j);
            }
            y.set(xy[r][IN], r, 0);
        }
        Mlp mlp = init(new Generator(2), DType.F64);
        double[][] w1 = new double[HIDDEN][IN];
        double[] w2 = new double[HIDDEN];
        for (int i = 0; i < HIDDEN; i++) {
            for (int j = 0; j < IN; j++) {
                w1[i][j] = mlp.w1().data().getDouble(i, j);
            }
            w2[i] = mlp.w2().data().getDouble(0, i);
        }
        double[] b1 = new double[HIDDEN];
        double[] b2 = new double[1];
        double lr = 0.2;
        double ours = 0;
        double reference = 0;
        for (int step = 0; step < 300; step++) {
            Variable loss = mlp.loss(x, y);
            ours = loss.item();
            loss.backward();
            mlp.sgd(lr);
            reference = referenceStep(xy, w1, b1, w2, b2, lr);
            assertEquals(reference, ours, 1e-9 * Math.max(1, reference), "loss at step " + step);
        }
        assertTrue(ours < 0.02, "the MLP should fit the toy regression, loss " + ours);
    }

    @Test
    void heapStaysFlatOverManySteps() {
        Generator g = new Generator(3);
        Mlp mlp = init(g, DType.F32);
        Tensor x = Tensor.randn(g, DType.F32, N, IN);
        Tensor y = x.sum(true, 1).sin();
        long after100 = 0;
        java.util.List<Variable> history = new java.util.ArrayList<>(); // as a user logging losses would keep them
        for (int step = 1; step <= 1000; step++) {
            Variable loss = mlp.loss(x, y);
            history.add(loss);
            loss.backward();
            mlp.sgd(0.05);
            if (step == 100) {
                after100 = retainedHeap();
            }
        }
        long after1000 = retainedHeap();
        // each kept loss would pin its step's graph (~30 KB of saved activations) if backward did not release it
        assertEquals(1000, history.size());
        assertTrue(after1000 - after100 < 4 << 20, "retained heap grew by " + (after1000 - after100) + " bytes over 900 steps");
    }

    static long retainedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
