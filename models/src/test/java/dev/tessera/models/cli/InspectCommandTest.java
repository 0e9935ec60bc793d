package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.Models;
import dev.tessera.models.Preset;
import dev.tessera.models.hf.HuggingFaceCheckpoint;
import dev.tessera.nn.Probe;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera inspect} on the tiny preset and on an imported Hugging Face GPT-2, and the probe it reads. */
class InspectCommandTest {

    private static Path gpt2Fixture() throws Exception {
        return Path.of(InspectCommandTest.class.getResource("/hf-fixtures/gpt2/config.json").toURI()).getParent();
    }

    @Test
    void tinyPresetPageHasEveryHeadsMapTheLensStatsAndGraph(@TempDir Path dir) throws Exception {
        LanguageModel model = Models.create(Preset.of("tiny").config(), new Generator(3));
        Path hf = dir.resolve("tiny");
        HuggingFaceCheckpoint.save(model, hf);
        Path out = dir.resolve("page");
        CliErrorsTest.Result r = CliErrorsTest.run("inspect", "--hf", hf.toString(), "--prompt", "Hello, world", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(out.resolve("index.html").toString(), r.out().strip());
        String html = Files.readString(out.resolve("index.html"));
        int layers = model.config().layers();
        int heads = model.config().heads();
        int tokens = "Hello, world".length(); // byte tokenizer
        try (var pngs = Files.list(out.resolve("attention"))) {
            assertEquals(layers * heads, pngs.count());
        }
        BufferedImage img = ImageIO.read(out.resolve("attention/layer03_head02.png").toFile()); // our encoder, read by the JDK's decoder
        assertNotNull(img);
        assertEquals(tokens * 16, img.getWidth()); // 16 px per cell for a short prompt
        assertEquals(tokens * 16, img.getHeight());
        int[] aboveDiagonal = {img.getRGB(tokens * 16 - 1, 0) & 0xffffff};
        assertArrayEquals(new int[] {(68 << 16) | (1 << 8) | 84}, aboveDiagonal, "a future key gets zero weight (the map's darkest colour)");
        assertEquals(2 * layers, html.split("<tr><td>", -1).length - 1, "one lens row and one layer-output row per layer");
        assertEquals(model.module().namedParameters().size(), html.split("<tr><td class=\"tok\">", -1).length - 1, "one row per parameter");
        assertTrue(html.contains("Next-token loss over the prompt"), html);
        assertFalse(html.contains("no gradient"), "every parameter got a gradient");
        var svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(out.resolve("graph.svg").toFile()); // well-formed SVG
        assertTrue(svg.getElementsByTagName("rect").getLength() > 10 * layers, "the whole recorded graph, not just its root");
        assertTrue(Files.readString(out.resolve("graph.dot")).startsWith("digraph autograd"));
        try (var left = Files.list(dir)) {
            assertEquals(List.of("page", "tiny"), left.map(p -> p.getFileName().toString()).sorted().toList(), "no partial directory left");
        }

        CliErrorsTest.Result again = CliErrorsTest.run("inspect", "--hf", hf.toString(), "--prompt", "x", "--out", out.toString());
        CliErrorsTest.assertOneLineError(again, "tessera: inspect: " + out + " already exists");
        assertEquals(html, Files.readString(out.resolve("index.html")), "an existing page is never overwritten");
    }

    @Test
    void importedGpt2PageIsWritten(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("gpt2-page");
        // the fixture's 101-token vocabulary with byte tokens: upper-case ASCII only
        CliErrorsTest.assertOneLineError(CliErrorsTest.run("inspect", "--hf", gpt2Fixture().toString(), "--prompt", "fox", "--out", out.toString()),
                "tessera: inspect: the prompt has token 102, outside the model's 101-token vocabulary");
        CliErrorsTest.Result r = CliErrorsTest.run("inspect", "--hf", gpt2Fixture().toString(), "--prompt", "THE QUICK BROWN FOX", "--out",
                out.toString(), "--top", "3");
        assertEquals(0, r.code(), r.err());
        String html = Files.readString(out.resolve("index.html"));
        assertTrue(html.contains("<h2 id=\"lens\">") && html.contains("transformer.h.0.attn.c_attn.weight"), html);
        try (var pngs = Files.list(out.resolve("attention"))) {
            assertTrue(pngs.findAny().isPresent());
        }
    }

    /** The lens after the last layer is the model's own output, and every attention row is a causal distribution. */
    @Test
    void probeRecordsWhatTheForwardComputes() throws Exception {
        for (LanguageModel model : List.of(Models.create(Preset.of("tiny").config(), new Generator(5)), HuggingFaceCheckpoint.load(gpt2Fixture()))) {
            model.module().eval();
            Tensor ids = Tensor.of(new long[] {1, 7, 3, 9, 2, 5}, 1, 6);
            List<Tensor> hidden;
            Map<Integer, Tensor> attention;
            Tensor logits;
            try (var s = GradMode.noGrad(); Probe probe = Probe.open()) {
                logits = model.forward(ids, null).data();
                hidden = probe.layerOutputs();
                attention = probe.attention();
            }
            assertFalse(Probe.active());
            int layers = model.config().layers();
            assertEquals(layers, hidden.size());
            assertEquals(layers, attention.size());
            Tensor lens = model.readOut(Variable.constant(hidden.get(layers - 1))).data();
            assertTrue(lens.sub(logits).abs().max(false).item() < 1e-5, "read-out of the last layer == the logits");
            for (Tensor p : attention.values()) {
                assertArrayEquals(new int[] {1, model.config().heads(), 6, 6}, p.shape());
                double[] v = p.toDoubleArray();
                for (int row = 0; row < v.length / 6; row++) {
                    double sum = 0;
                    for (int j = 0; j < 6; j++) {
                        double x = v[row * 6 + j];
                        sum += x;
                        if (j > row % 6) {
                            assertEquals(0.0, x, "key " + j + " is in query " + row % 6 + "'s future");
                        }
                    }
                    assertEquals(1.0, sum, 1e-5);
                }
            }
        }
    }
}
