package example.mlp;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * A two-layer perceptron learns two interleaved spirals (a toy dataset no straight line separates):
 * tensor for the data, autograd for the gradients, nn for the layers, the loss and the optimiser.
 * Exits with status 1 unless the training accuracy ends above 95%.
 */
public final class Main {
    /** x ↦ W₂ tanh(W₁ x + b₁) + b₂: logits over the two classes. */
    static final class Mlp extends Module {
        private final Linear hidden;
        private final Linear out;

        Mlp(int in, int width, int classes, Generator g) {
            hidden = child("hidden", new Linear(in, width, true, g));
            out = child("out", new Linear(width, classes, true, g));
        }

        Variable forward(Variable x) {
            return out.forward(hidden.forward(x).tanh()); // (N, classes)
        }
    }

    public static void main(String[] args) {
        int perClass = 100;
        Generator g = new Generator(42);
        float[] points = new float[2 * perClass * 2];
        long[] labels = new long[2 * perClass];
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < perClass; i++) {
                double r = (double) i / perClass;
                double angle = 4.0 * r + Math.PI * c + 0.1 * g.nextGaussian();
                int row = c * perClass + i;
                points[2 * row] = (float) (r * Math.sin(angle));
                points[2 * row + 1] = (float) (r * Math.cos(angle));
                labels[row] = c;
            }
        }
        Tensor x = Tensor.of(points, 2 * perClass, 2);  // (N, 2)
        Tensor y = Tensor.of(labels);                     // (N,) I64: more than one value, so 1-d without a shape

        Mlp model = new Mlp(2, 32, 2, g);
        AdamW opt = new AdamW(ParamGroup.all(model.parameters()), 0.03);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int step = 0; step < 300; step++) {
            Variable loss = Losses.crossEntropy(model.forward(Variable.constant(x)), y); // 0-d: the mean
            loss.backward();
            opt.step();
            opt.zeroGrad();
            last = loss.item();
            if (step == 0) {
                first = last;
            }
        }
        double accuracy;
        try (var noGrad = GradMode.noGrad()) {
            Tensor predicted = model.forward(Variable.constant(x)).data().argmax(1, false); // (N,)
            accuracy = predicted.eq(y).sum().getDouble() / y.shape()[0]; // sum() of every element is 0-d
        }
        System.out.printf("mlp: %d parameters, loss %.3f -> %.3f, accuracy %.1f%%%n",
                model.parameterCount(), first, last, 100 * accuracy);
        if (!(accuracy > 0.95 && last < first)) {
            System.err.println("mlp: the network did not learn the spirals");
            System.exit(1);
        }
    }
}
