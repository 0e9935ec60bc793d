package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.autograd.TorchOpInfoOps.Args;
import dev.tessera.autograd.TorchOpInfoOps.Op;
import dev.tessera.tensor.Indexing;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Tessera's public ops against PyTorch, in the manner of PyTorch's OpInfo tests. The fixtures
 * ({@code src/test/resources/torch-opinfo}, written by {@code autograd/tools/make_torch_opinfo.py}
 * with torch, never in CI) hold each case's inputs, torch's outputs and, for F64 cases, the
 * gradients of {@code sum(out * upstream)}. Every case runs three times: on the memory-mapped tensors
 * {@link SafeTensors#read} returns, on heap copies, and on the simulated device (every op through
 * the backend seam: the backend contract test), each with the case's view recipe applied
 * (transposes, stepped slices, expands) so kernels see non-contiguous input as well.
 *
 * <p>Values are compared as PyTorch's {@code allclose} does, {@code |ours - torch| <= atol + rtol·|torch|},
 * with the atol optionally scaled by the largest finite expected magnitude (for sums, whose error
 * grows with the terms, not with the result); NaN must meet NaN, an infinity the same infinity, and
 * the sign of a zero counts where the case says it means something (odd functions, copies).
 * Dtypes and shapes must match exactly. A failure names the storage kind, the tensor, how many
 * elements differ, the worst one and a few others.
 */
class TorchOpInfoTest {
    /** Integers as {@code Long} and other numbers as {@code Double}, as the case readers expect. */
    private static final com.fasterxml.jackson.databind.ObjectMapper MANIFEST_READER = new com.fasterxml.jackson.databind.ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_LONG_FOR_INTS);

    /**
     * Tolerances per class; {@code scaled} multiplies the largest finite |expected| of the tensor. The
     * atol of the rounded classes is the dtype's smallest normal number: differences only among
     * subnormals are ignored (torch's vector kernels flush some, e.g. log1p(4.9e-324) = 0).
     */
    record Tol(double rtol, double atol, double scaled) {}

    private static final Map<String, Tol> TOLERANCES = Map.ofEntries(
            Map.entry("exact", new Tol(0, 0, 0)),
            Map.entry("f64", new Tol(1e-13, Double.MIN_NORMAL, 0)),
            Map.entry("f64sum", new Tol(1e-12, Double.MIN_NORMAL, 1e-13)),
            Map.entry("f32", new Tol(4e-6, Float.MIN_NORMAL, 0)),
            Map.entry("f32gelu", new Tol(4e-6, 0x1p-22, 0)),
            Map.entry("f32sum", new Tol(1e-5, Float.MIN_NORMAL, 1e-6)),
            Map.entry("bf16", new Tol(0x1p-7, Float.MIN_NORMAL, 0)),
            Map.entry("bf16sum", new Tol(0x1p-6, Float.MIN_NORMAL, 0x1p-8)),
            Map.entry("f16", new Tol(0x1p-10, 0x1p-14, 0)),
            Map.entry("f16sum", new Tol(0x1p-9, 0x1p-14, 0x1p-10)));
    /**
     * Gradients are F64 and come through several ops, rounded in a different order than torch's:
     * "grad" tolerates errors relative to the largest gradient, "gradStrict" (for cases built to
     * show a loss of precision in small gradients) only relative to each element.
     */
    private static final Map<String, Tol> GRAD_TOLERANCES = Map.of(
            "grad", new Tol(1e-10, 0, 1e-12),
            "gradStrict", new Tol(1e-10, Double.MIN_NORMAL, 0));

    /** Where the inputs live: a memory-mapped file, the heap, or the simulated device (every op through the backend seam). */
    enum StorageKind { MAPPED, HEAP, SIM }

    record Input(String tensor, List<Object> view) {}

    record Grad(List<String> upstream, List<String> grads, String tol) {}

    record Case(String name, String op, Args args, List<Input> inputs, List<String> outputs, String tol, boolean signedZero,
                Grad grad, String error, String note) {}

    private static final Path DIR = resourceDir();

    private static Path resourceDir() {
        try {
            return Path.of(TorchOpInfoTest.class.getResource("/torch-opinfo/cases.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("TorchOpInfoTest: cannot locate torch-opinfo fixtures", e);
        }
    }

    @TestFactory
    Stream<DynamicTest> matchesTorch() throws IOException {
        Map<String, Tensor> mapped = SafeTensors.read(DIR.resolve("tensors.safetensors"));
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> run(c, mapped)));
    }

    // ------------------------------------------------------------------ one case

    private static void run(Case c, Map<String, Tensor> mapped) {
        Op op = TorchOpInfoOps.OPS.get(c.op());
        if (op == null) {
            fail(c.name() + ": no Tessera op registered for " + c.op());
        }
        if (c.error() == null && !TOLERANCES.containsKey(c.tol()) || c.grad() != null && !GRAD_TOLERANCES.containsKey(c.grad().tol())) {
            fail(c.name() + ": unknown tolerance class in the manifest");
        }
        List<String> failures = new ArrayList<>();
        for (StorageKind kind : StorageKind.values()) {
            try {
                runOn(kind, c, op, mapped, failures);
            } catch (RuntimeException | AssertionError e) {
                failures.add(kind + ": threw " + describe(e));
            }
        }
        if (!failures.isEmpty()) {
            fail(c.name() + " [" + c.op() + " " + c.args().map() + "]" + (c.note() == null ? "" : " (" + c.note() + ")")
                    + "\n  " + String.join("\n  ", failures));
        }
    }

    private static void runOn(StorageKind kind, Case c, Op op, Map<String, Tensor> mapped, List<String> failures) {
        List<Tensor> in = new ArrayList<>();
        for (Input i : c.inputs()) {
            in.add(applyView(fixture(mapped, i.tensor(), kind), i.view()));
        }
        if (c.error() != null) {
            // both must reject, with one of the exceptions Tessera validates arguments with (not a crash)
            try {
                Object result = op.tensor() != null ? op.tensor().apply(c.args(), in) : op.variable().apply(c.args(), variables(in));
                failures.add(kind + ": torch rejects this (" + c.error() + ") but Tessera returned " + describeResult(result));
            } catch (IllegalArgumentException | IndexOutOfBoundsException expected) {
                // both reject
            }
            return;
        }
        Tol tol = TOLERANCES.get(c.tol());
        if (op.tensor() != null) {
            compareAll(kind + " forward", c.outputs(), tensors(op.tensor().apply(c.args(), in)), mapped, tol, c.signedZero(), failures);
        }
        if (c.grad() == null) {
            return;
        }
        if (op.variable() == null) {
            failures.add(kind + ": the fixture has gradients but autograd has no Variable form of " + c.op());
            return;
        }
        List<Variable> vars = variables(in);
        List<Variable> outs = variableOutputs(op.variable().apply(c.args(), vars));
        if (op.tensor() == null) {
            compareAll(kind + " Variable forward", c.outputs(), outs.stream().map(Variable::data).toList(), mapped, tol, c.signedZero(),
                    failures);
        }
        List<Tensor> upstream = c.grad().upstream().stream().map(n -> fixture(mapped, n, kind)).toList();
        if (outs.size() == 1) {
            outs.getFirst().backward(upstream.getFirst());
        } else {
            Variable loss = null;
            for (int j = 0; j < outs.size(); j++) {
                Variable term = outs.get(j).mul(Variable.constant(upstream.get(j))).sum();
                loss = loss == null ? term : loss.add(term);
            }
            loss.backward();
        }
        for (int i = 0; i < vars.size(); i++) {
            String name = c.grad().grads().get(i);
            if (name != null) {
                Tensor g = vars.get(i).grad();
                Tensor actual = g != null ? g : Tensor.zeros(in.get(i).dtype(), in.get(i).shape());
                String problem = compare(mapped.get(name), actual, GRAD_TOLERANCES.get(c.grad().tol()), false);
                if (problem != null) {
                    failures.add(kind + " grad" + i + ": " + problem);
                }
            }
        }
    }

    /** Floating inputs require grad (as the fixture's leaves did); index and mask inputs are constants. */
    private static List<Variable> variables(List<Tensor> in) {
        return in.stream().map(t -> t.dtype().isFloating() ? Variable.of(t, true) : Variable.constant(t)).toList();
    }

    private static Tensor fixture(Map<String, Tensor> mapped, String name, StorageKind kind) {
        Tensor t = mapped.get(name);
        if (t == null) {
            throw new IllegalStateException("TorchOpInfoTest: tensor " + name + " missing from tensors.safetensors");
        }
        return switch (kind) {
            case MAPPED -> t;
            case HEAP -> t.copy();
            case SIM -> t.to(dev.tessera.tensor.Device.SIM);
        };
    }

    private static void compareAll(String what, List<String> expected, List<Tensor> actual, Map<String, Tensor> mapped, Tol tol,
                                   boolean signedZero, List<String> failures) {
        if (expected.size() != actual.size()) {
            failures.add(what + ": torch gives " + expected.size() + " outputs, Tessera " + actual.size());
            return;
        }
        for (int j = 0; j < expected.size(); j++) {
            String problem = compare(mapped.get(expected.get(j)), actual.get(j), tol, signedZero);
            if (problem != null) {
                failures.add(what + " out" + j + ": " + problem);
            }
        }
    }

    // ------------------------------------------------------------------ comparison

    /** Null when {@code actual} matches {@code expected}, else a one-line description of the worst mismatches. */
    static String compare(Tensor expected, Tensor actual, Tol tol, boolean signedZero) {
        if (expected.dtype() != actual.dtype()) {
            return "dtype " + actual.dtype() + ", torch " + expected.dtype();
        }
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            return "shape " + Arrays.toString(actual.shape()) + ", torch " + Arrays.toString(expected.shape());
        }
        int n = expected.numel();
        if (!expected.dtype().isFloating()) {
            long[] e = expected.toLongArray();
            long[] a = actual.toLongArray();
            Mismatches m = new Mismatches(expected.shape(), n);
            for (int i = 0; i < n; i++) {
                if (e[i] != a[i]) {
                    m.add(i, e[i], a[i], Math.abs((double) e[i] - a[i]), 1);
                }
            }
            return m.describe("exact");
        }
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double scale = 0;
        for (double v : e) {
            if (Double.isFinite(v)) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double atol = tol.atol() + tol.scaled() * scale;
        Mismatches m = new Mismatches(expected.shape(), n);
        for (int i = 0; i < n; i++) {
            double x = e[i];
            double y = a[i];
            if (Double.isNaN(x) || Double.isInfinite(x) || !Double.isFinite(y)) {
                if (!(Double.isNaN(x) && Double.isNaN(y)) && x != y) {
                    m.add(i, x, y, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY);
                }
                continue;
            }
            double diff = Math.abs(x - y);
            double allowed = atol + tol.rtol() * Math.abs(x);
            if (diff > allowed) {
                m.add(i, x, y, diff, allowed == 0 ? Double.POSITIVE_INFINITY : diff / allowed);
            } else if (signedZero && x == 0 && y == 0 && Double.doubleToRawLongBits(x) != Double.doubleToRawLongBits(y)) {
                m.add(i, x, y, 0, 0);
            }
        }
        return m.describe(tol.toString());
    }

    /** Collects mismatching elements: the worst (largest diff / allowed) and the first few. */
    private static final class Mismatches {
        private static final int SHOWN = 4;
        private final int[] shape;
        private final int total;
        private final List<String> first = new ArrayList<>();
        private int count;
        private double worstRatio = -1;
        private String worst;

        Mismatches(int[] shape, int total) {
            this.shape = shape;
            this.total = total;
        }

        void add(int flat, Object expected, Object actual, double diff, double ratio) {
            double rel = expected instanceof Double d && d != 0 ? diff / Math.abs(d) : Double.NaN;
            String s = index(flat) + " torch " + expected + " ours " + actual + (Double.isFinite(diff) && diff > 0
                    ? " (abs diff " + (float) diff + (Double.isNaN(rel) ? "" : ", rel " + (float) rel) + ")" : "");
            if (count++ < SHOWN) {
                first.add(s);
            }
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worst = s;
            }
        }

        String describe(String tolerance) {
            if (count == 0) {
                return null;
            }
            return count + " of " + total + " elements differ (" + tolerance + "); worst " + worst + "; first " + String.join(", ", first);
        }

        private String index(int flat) {
            int[] idx = new int[shape.length];
            for (int d = shape.length - 1, rest = flat; d >= 0; rest /= shape[d], d--) {
                idx[d] = rest % shape[d];
            }
            return Arrays.toString(idx);
        }
    }

    // ------------------------------------------------------------------ results, views, errors

    private static List<Tensor> tensors(Object result) {
        return switch (result) {
            case Tensor t -> List.of(t);
            case Tensor[] ts -> List.of(ts);
            case Indexing.TopK(Tensor values, Tensor indices) -> List.of(values, indices);
            case Indexing.Sorted(Tensor values, Tensor indices) -> List.of(values, indices);
            default -> throw new IllegalStateException("TorchOpInfoTest: unexpected op result " + result.getClass());
        };
    }

    private static List<Variable> variableOutputs(Object result) {
        return switch (result) {
            case Variable v -> List.of(v);
            case Variable[] vs -> List.of(vs);
            default -> throw new IllegalStateException("TorchOpInfoTest: unexpected Variable result " + result.getClass());
        };
    }

    private static String describeResult(Object result) {
        return result instanceof Tensor t ? "shape " + Arrays.toString(t.shape()) + " " + t.dtype() : result.getClass().getSimpleName();
    }

    /** The exception and where in Tessera it was thrown (the first frame outside the test). */
    private static String describe(Throwable e) {
        String where = "";
        for (StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().startsWith("dev.tessera.") && !f.getClassName().contains("OpInfo")) {
                where = " at " + f.getFileName() + ":" + f.getLineNumber();
                break;
            }
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage() + where;
    }

    /** Applies a view recipe: the same steps the fixture script applied to make torch's input. */
    static Tensor applyView(Tensor t, List<Object> recipe) {
        Tensor v = t;
        for (Object o : recipe) {
            List<?> s = (List<?>) o;
            v = switch ((String) s.get(0)) {
                case "transpose" -> v.transpose(num(s, 1), num(s, 2));
                case "permute" -> v.permute(nums(s.get(1)));
                case "slice" -> v.slice(num(s, 1), num(s, 2), num(s, 3), num(s, 4));
                case "expand" -> v.expand(nums(s.get(1)));
                case "unsqueeze" -> v.unsqueeze(num(s, 1));
                case "select" -> v.select(num(s, 1), num(s, 2));
                case "diagonal" -> v.diagonal(num(s, 1), num(s, 2), num(s, 3));
                default -> throw new IllegalArgumentException("TorchOpInfoTest: unknown view step " + s);
            };
        }
        return v;
    }

    private static int num(List<?> s, int i) {
        return Math.toIntExact((Long) s.get(i));
    }

    private static int[] nums(Object list) {
        return ((List<?>) list).stream().mapToInt(v -> Math.toIntExact((Long) v)).toArray();
    }

    // ------------------------------------------------------------------ manifest

    @SuppressWarnings("unchecked")
    static List<Case> cases() {
        Map<String, Object> root;
        try {
            root = MANIFEST_READER.readValue(Files.readString(DIR.resolve("cases.json")), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Case> out = new ArrayList<>();
        for (Object o : (List<Object>) root.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            List<Input> inputs = ((List<Object>) c.get("inputs")).stream()
                    .map(i -> (Map<String, Object>) i)
                    .map(i -> new Input((String) i.get("t"), (List<Object>) i.get("view")))
                    .toList();
            Map<String, Object> g = (Map<String, Object>) c.get("grad");
            Grad grad = g == null ? null
                    : new Grad((List<String>) (List<?>) g.get("upstream"), (List<String>) (List<?>) g.get("grads"), (String) g.get("tol"));
            out.add(new Case((String) c.get("name"), (String) c.get("op"), new Args((Map<String, Object>) c.get("args")), inputs,
                    (List<String>) (List<?>) c.get("outputs"), (String) c.get("tol"), (Boolean) c.get("signedZero"), grad,
                    (String) c.get("error"), (String) c.get("note")));
        }
        return out;
    }
}
