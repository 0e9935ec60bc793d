package dev.tessera.models.cli;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.GraphExport;
import dev.tessera.autograd.Variable;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.hf.HuggingFaceCheckpoint;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.models.train.Checkpoints;
import dev.tessera.models.train.RunDirectory;
import dev.tessera.nn.Probe;
import dev.tessera.nn.loss.Losses;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tessera inspect}: one forward and backward pass over a prompt, shown as a web page —
 * per layer and head the attention maps (PNG heatmaps), the logit lens (the final norm and LM head
 * applied after every layer: which tokens the residual stream already predicts), statistics of
 * every layer's output and of every parameter and its gradient, and the recorded autograd graph
 * (DOT and SVG). The page and its files go to a new directory, written under a temporary name and
 * renamed when complete, so a failed run leaves no half-written page.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Attention maps, logit lens, activation/gradient statistics and the autograd graph of one pass over a prompt, as an HTML page.")
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    GenerateCommand.Source source;

    @Option(names = "--prompt", required = true, description = "The text to run through the model.")
    String prompt;

    @Option(names = "--out", description = "A new directory for the page (default: inspect-<model>-<time> here).")
    Path out;

    @Option(names = "--top", description = "Tokens shown per position in the logit lens (default: 5).")
    int top = 5;

    @Option(names = "--tokenizer", description = "A tokenizer.json (default: the one in the run or HF directory, else bytes).")
    Path tokenizerJson;

    @Override
    public Integer call() throws Exception {
        if (top < 1) {
            throw new IllegalArgumentException("inspect: --top must be positive, got " + top);
        }
        PrintWriter err = spec.commandLine().getErr();
        LanguageModel model = source.hf != null ? HuggingFaceCheckpoint.load(source.hf) : RunDirectory.loadModel(source.checkpoint, "inspect", err);
        Path dir = source.hf != null ? source.hf : RunDirectory.of(source.checkpoint);
        Tokenizer tokenizer = GenerateCommand.tokenizerIn(dir, tokenizerJson);
        if (model.config().architecture() == ModelConfig.Architecture.BERT) {
            throw new IllegalArgumentException("inspect: the model is a BERT encoder; inspect reads decoders (llama, gpt2)");
        }
        int[] ids = tokenizer.encode(prompt);
        if (ids.length == 0) {
            throw new IllegalArgumentException("inspect: the prompt encodes to no tokens");
        }
        for (int id : ids) {
            if (id >= model.config().vocabSize()) {
                throw new IllegalArgumentException("inspect: the prompt has token " + id + ", outside the model's " + model.config().vocabSize()
                        + "-token vocabulary (pass the model's --tokenizer)");
            }
        }
        int context = model.config().contextLength();
        if (ids.length > context) {
            ids = Arrays.copyOfRange(ids, ids.length - context, ids.length);
            err.printf("note: the prompt has more than %d tokens; inspecting the last %d%n", context, context);
        }
        Path target = out != null ? out : Path.of(String.format(Locale.ROOT, "inspect-%s-%tY%<tm%<td-%<tH%<tM%<tS",
                dir.getFileName(), System.currentTimeMillis()));
        if (Files.exists(target)) {
            throw new IllegalArgumentException("inspect: " + target + " already exists; give a new --out directory");
        }
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path work = Files.createTempDirectory(parent, target.getFileName() + ".partial-");
        try {
            Page page = inspect(model, tokenizer, ids, work);
            Files.writeString(work.resolve("index.html"), page.html(), StandardCharsets.UTF_8);
            Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Checkpoints.deleteTree(work); // only the temporary directory this command created
            throw e;
        }
        spec.commandLine().getOut().println(target.resolve("index.html"));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** What the page shows, already rendered into files under {@code work}. */
    record Page(String html) {}

    Page inspect(LanguageModel model, Tokenizer tokenizer, int[] ids, Path work) throws IOException {
        model.module().eval();
        int t = ids.length;
        long[] longIds = Arrays.stream(ids).asLongStream().toArray();
        Tensor input = Tensor.of(longIds, 1, t);
        Variable logits;
        List<Tensor> hidden;
        Map<Integer, Tensor> attention;
        try (Probe probe = Probe.open()) {
            logits = model.forward(input, null); // (1, T, V)
            hidden = probe.layerOutputs();
            attention = probe.attention();
        }
        Variable loss = null;
        if (t >= 2) { // next-token loss over the prompt, for the gradients
            Tensor targets = Tensor.of(Arrays.copyOfRange(longIds, 1, t), 1, t - 1);
            loss = Losses.crossEntropy(logits.narrow(1, 0, t - 1), targets);
        }
        Variable root = loss != null ? loss : logits;
        // the graph before backward, which releases it
        Files.writeString(work.resolve("graph.dot"), GraphExport.toDot(root), StandardCharsets.UTF_8);
        Files.writeString(work.resolve("graph.svg"), GraphExport.toSvg(root), StandardCharsets.UTF_8);
        if (loss != null) {
            loss.backward();
        }
        String[] tokens = new String[t];
        for (int i = 0; i < t; i++) {
            tokens[i] = tokenizer.decode(new int[] {ids[i]});
        }
        StringBuilder html = new StringBuilder();
        ModelConfig c = model.config();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>tessera inspect</title><style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:12px}")
                .append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}td.tok{text-align:left;font-family:monospace}")
                .append("figure{display:inline-block;margin:4px;text-align:center;font-size:11px}img{image-rendering:pixelated;border:1px solid #888}")
                .append("</style></head><body>\n");
        html.append("<h1>tessera inspect</h1><p>").append(esc(c.architecture().name().toLowerCase(Locale.ROOT))).append(", ")
                .append(c.layers()).append(" layers, ").append(c.heads()).append(" heads, width ").append(c.dim()).append(", ")
                .append(String.format(Locale.ROOT, "%,d parameters", model.parameterCount())).append(". Prompt: ").append(t)
                .append(" tokens: ").append(tokenRow(tokens)).append("</p>\n");
        if (loss != null) {
            html.append(String.format(Locale.ROOT, "<p>Next-token loss over the prompt: %.4f (the gradients below are of this loss).</p>%n",
                    loss.data().item()));
        }
        html.append("<h2 id=\"attention\">Attention maps</h2>\n");
        if (attention.isEmpty()) {
            html.append("<p>None recorded: maps are recorded for softmax attention; this model uses <code>")
                    .append(esc(c.mixer() != null ? "mixer " + c.mixer() : c.attentionKind().toString())).append("</code>.</p>\n");
        } else {
            html.append("<p>Row = query position, column = key position; each map scaled to its own maximum (yellow).</p>\n");
            Files.createDirectories(work.resolve("attention"));
            for (var e : attention.entrySet()) {
                Tensor p = e.getValue(); // (1, H, T, S)
                int heads = p.size(1);
                int rows = p.size(2);
                int cols = p.size(3);
                int cell = Math.max(1, Math.min(16, 384 / Math.max(rows, cols)));
                html.append("<h3>layer ").append(e.getKey()).append("</h3>\n");
                double[] all = p.toDoubleArray();
                for (int h = 0; h < heads; h++) {
                    double[][] m = new double[rows][cols];
                    double max = 0;
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < cols; j++) {
                            m[i][j] = all[(h * rows + i) * cols + j];
                            max = Math.max(max, m[i][j]);
                        }
                    }
                    for (double[] row : m) {
                        for (int j = 0; j < cols; j++) {
                            row[j] = max > 0 ? row[j] / max : 0;
                        }
                    }
                    String name = String.format(Locale.ROOT, "attention/layer%02d_head%02d.png", e.getKey(), h);
                    Files.write(work.resolve(name), Heatmap.png(m, cell));
                    html.append("<figure><img src=\"").append(name).append("\" alt=\"layer ").append(e.getKey()).append(" head ").append(h)
                            .append("\"><figcaption>head ").append(h).append("</figcaption></figure>\n");
                }
            }
        }
        html.append("<h2 id=\"lens\">Logit lens</h2>\n");
        if (hidden.isEmpty()) {
            html.append("<p>No per-layer outputs recorded for this model's layout.</p>\n");
        } else {
            html.append("<p>The final norm and LM head applied to the residual stream after each layer: the most likely next token at each")
                    .append(" position and its probability (hover for the top ").append(top).append(").</p>\n<table><tr><th>layer</th>");
            for (int i = 0; i < t; i++) {
                html.append("<th>").append(esc(visible(tokens[i]))).append("</th>");
            }
            html.append("</tr>\n");
            try (var s = GradMode.noGrad()) {
                for (int l = 0; l < hidden.size(); l++) {
                    Tensor lens = model.readOut(Variable.constant(hidden.get(l))).data(); // (1, T, V)
                    html.append("<tr><td>").append(l).append("</td>");
                    for (int i = 0; i < t; i++) {
                        html.append(lensCell(lens.select(0, 0).select(0, i), tokenizer));
                    }
                    html.append("</tr>\n");
                }
            }
            html.append("</table>\n");
        }
        html.append("<h2 id=\"activations\">Layer outputs</h2>\n<table><tr><th>layer</th>").append(Stats.HEADER).append("</tr>\n");
        for (int l = 0; l < hidden.size(); l++) {
            html.append("<tr><td>").append(l).append("</td>").append(Stats.of(hidden.get(l)).cells()).append("</tr>\n");
        }
        html.append("</table>\n<h2 id=\"parameters\">Parameters and gradients</h2>\n<table><tr><th>parameter</th><th>shape</th>")
                .append(Stats.HEADER).append(Stats.HEADER.replace("<th>", "<th>grad ")).append("</tr>\n");
        for (var e : model.module().namedParameters().entrySet()) {
            Variable v = e.getValue();
            html.append("<tr><td class=\"tok\">").append(esc(e.getKey())).append("</td><td>").append(Arrays.toString(v.shape())).append("</td>")
                    .append(Stats.of(v.data()).cells()).append(v.grad() == null ? "<td colspan=\"4\">no gradient</td>" : Stats.of(v.grad()).cells())
                    .append("</tr>\n");
        }
        html.append("</table>\n<h2 id=\"graph\">Autograd graph</h2>\n");
        html.append("<p>What the pass recorded, inputs at the bottom (<a href=\"graph.dot\">graph.dot</a> for Graphviz).</p>")
                .append("<div style=\"overflow:auto;max-height:800px;border:1px solid #ccc\"><img src=\"graph.svg\" alt=\"autograd graph\"></div>\n");
        html.append("</body></html>\n");
        return new Page(html.toString());
    }

    private String lensCell(Tensor logitsRow, Tokenizer tokenizer) {
        double[] z = logitsRow.toDoubleArray();
        double max = Arrays.stream(z).max().orElse(0);
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        Integer[] order = new Integer[z.length];
        for (int i = 0; i < z.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(z[b], z[a]));
        StringBuilder title = new StringBuilder();
        for (int r = 0; r < Math.min(top, z.length); r++) {
            int id = order[r];
            title.append(String.format(Locale.ROOT, "%s %.3f&#10;", esc(visible(decode(tokenizer, id))), Math.exp(z[id] - max) / sum));
        }
        int best = order[0];
        return String.format(Locale.ROOT, "<td class=\"tok\" title=\"%s\">%s <small>%.2f</small></td>", title, esc(visible(decode(tokenizer, best))),
                Math.exp(z[best] - max) / sum);
    }

    private static String decode(Tokenizer tokenizer, int id) {
        return id < tokenizer.vocabSize() ? tokenizer.decode(new int[] {id}) : "#" + id;
    }

    private static String tokenRow(String[] tokens) {
        StringBuilder sb = new StringBuilder();
        for (String s : tokens) {
            sb.append("<code style=\"border:1px solid #ccc;margin:1px\">").append(esc(visible(s))).append("</code>");
        }
        return sb.toString();
    }

    /** Whitespace and control characters made visible. */
    static String visible(String s) {
        return s.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Mean, standard deviation, largest magnitude and fraction of exact zeros of a tensor. */
    record Stats(double mean, double std, double maxAbs, double zeros) {
        static final String HEADER = "<th>mean</th><th>std</th><th>max |x|</th><th>zeros</th>";

        static Stats of(Tensor x) {
            double[] v = x.toDoubleArray();
            double sum = 0;
            double maxAbs = 0;
            int zeros = 0;
            for (double d : v) {
                sum += d;
                maxAbs = Math.max(maxAbs, Math.abs(d));
                zeros += d == 0 ? 1 : 0;
            }
            double mean = v.length == 0 ? 0 : sum / v.length;
            double sq = 0;
            for (double d : v) {
                sq += (d - mean) * (d - mean);
            }
            return new Stats(mean, v.length < 2 ? 0 : Math.sqrt(sq / (v.length - 1)), maxAbs, v.length == 0 ? 0 : (double) zeros / v.length);
        }

        String cells() {
            return String.format(Locale.ROOT, "<td>%.4g</td><td>%.4g</td><td>%.4g</td><td>%.1f%%</td>", mean, std, maxAbs, 100 * zeros);
        }
    }
}
