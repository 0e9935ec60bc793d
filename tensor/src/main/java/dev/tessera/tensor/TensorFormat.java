package dev.tessera.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints tensors the way PyTorch does: {@code tensor([[1.0000, 2.5000], ...])}, one fixed format
 * for all elements (scientific when the magnitudes span too much), and tensors over 1000 elements
 * summarised with the first and last three entries of each dim.
 */
final class TensorFormat {
    private static final int THRESHOLD = 1000;
    private static final int EDGE = 3;

    private TensorFormat() {}

    static String format(Tensor t) {
        boolean summarize = t.numel() > THRESHOLD;
        List<Double> shown = new ArrayList<>();
        collect(t, summarize, shown);
        Formatter f = Formatter.choose(t.dtype(), shown);
        StringBuilder sb = new StringBuilder("tensor(");
        if (t.numel() == 0 && t.rank() == 1) {
            sb.append("[]");
        } else {
            render(t, summarize, f, sb, 7);
        }
        if (t.dtype() != DType.F32 && t.dtype() != DType.I64 && t.dtype() != DType.BOOL) {
            sb.append(", dtype=torch.").append(t.dtype().torchName());
        }
        if (t.numel() == 0 && t.rank() > 1) {
            sb.append(", size=").append(Shapes.str(t.shape()).replace('[', '(').replace(']', ')'));
        }
        return sb.append(')').toString();
    }

    private static void collect(Tensor t, boolean summarize, List<Double> out) {
        if (t.rank() == 0) {
            out.add(t.item());
            return;
        }
        int n = t.size(0);
        for (int i = 0; i < n; i++) {
            if (summarize && n > 2 * EDGE && i == EDGE) {
                i = n - EDGE;
            }
            collect(t.select(0, i), summarize, out);
        }
    }

    private static void render(Tensor t, boolean summarize, Formatter f, StringBuilder sb, int indent) {
        if (t.rank() == 0) {
            sb.append(f.format(t.item()));
            return;
        }
        int n = t.size(0);
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (summarize && n > 2 * EDGE && i == EDGE) {
                sb.append(t.rank() == 1 ? " ..., " : "...," + "\n".repeat(t.rank() - 1) + " ".repeat(indent + 1));
                i = n - EDGE;
            }
            render(t.select(0, i), summarize, f, sb, indent + 1);
            if (i < n - 1) {
                sb.append(t.rank() == 1 ? ", " : "," + "\n".repeat(t.rank() - 1) + " ".repeat(indent + 1));
            }
        }
        sb.append(']');
    }

    private record Formatter(DType dtype, boolean integral, boolean scientific, int width) {
        static Formatter choose(DType dtype, List<Double> values) {
            if (!dtype.isFloating()) {
                return new Formatter(dtype, true, false, 0).widest(values);
            }
            boolean integral = true;
            double maxAbs = 0;
            double minAbs = Double.POSITIVE_INFINITY;
            for (double v : values) {
                if (!Double.isFinite(v)) {
                    continue;
                }
                integral &= v == Math.rint(v);
                double a = Math.abs(v);
                if (a != 0) {
                    maxAbs = Math.max(maxAbs, a);
                    minAbs = Math.min(minAbs, a);
                }
            }
            boolean sci = maxAbs > 0 && (maxAbs / minAbs > 1000 || maxAbs > 1e8 || minAbs < 1e-4);
            return new Formatter(dtype, integral, sci, 0).widest(values);
        }

        /** PyTorch right-aligns every element to the widest one shown. */
        Formatter widest(List<Double> values) {
            int w = 0;
            for (double v : values) {
                w = Math.max(w, text(v).length());
            }
            return new Formatter(dtype, integral, scientific, w);
        }

        String format(double v) {
            String t = text(v);
            return " ".repeat(Math.max(0, width - t.length())) + t;
        }

        private String text(double v) {
            if (dtype == DType.BOOL) {
                return v != 0 ? "True" : "False";
            }
            if (!dtype.isFloating()) {
                return Long.toString((long) v);
            }
            if (Double.isNaN(v)) {
                return "nan";
            }
            if (Double.isInfinite(v)) {
                return v > 0 ? "inf" : "-inf";
            }
            if (scientific) {
                return String.format(Locale.ROOT, "%.4e", v);
            }
            if (integral) {
                return String.format(Locale.ROOT, "%.0f.", v);
            }
            return String.format(Locale.ROOT, "%.4f", v);
        }
    }
}
