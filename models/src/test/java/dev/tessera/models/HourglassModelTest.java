package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** B27 in the decoders: causal, decoded incrementally from KV caches exactly, saved in config.json, switched on by --hourglass, and it learns. */
class HourglassModelTest {

    private static ModelConfig hourglass(ModelConfig base, String spec) {
        Hourglass.Options h = Hourglass.Options.parse(spec);
        return base.toBuilder().layers(h.layers()).hourglass(h).build();
    }

    /** Both architectures, both pooling and both upsampling methods, k = 2 and 3 (T = 16 is no multiple of 3). */
    private static List<ModelConfig> configs() {
        List<ModelConfig> out = new ArrayList<>();
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            out.add(hourglass(base, "1@1,2@2,1@1/avg/repeat"));
            out.add(hourglass(base, "1@1,1@3,1@1/linear/linear"));
        }
        out.add(hourglass(Fixtures.llama(), "0@1,1@3,1@1/linear/repeat")); // the embeddings shortened directly
        return out;
    }

    @Test
    void changingTokenTNeverChangesEarlierLogits() {
        for (ModelConfig c : configs()) {
            LanguageModel m = Models.create(c, new Generator(41));
            Tensor ids = Fixtures.ids(42, 1, 11, c.vocabSize());
            try (var s = GradMode.noGrad()) {
                Tensor base = m.forward(ids, null).data(); // (1, T, V)
                for (int t = 0; t < 11; t++) {
                    Tensor changed = ids.copy();
                    changed.narrow(1, t, 1).fillInPlace((ids.getLong(0, t) + 1) % c.vocabSize());
                    Tensor other = m.forward(changed, null).data();
                    double before = t == 0 ? 0 : Fixtures.maxAbsDiff(base.narrow(1, 0, t), other.narrow(1, 0, t));
                    assertEquals(0, before, 0, c.hourglass() + " " + c.architecture() + ": token " + t + " changed earlier logits");
                    assertTrue(Fixtures.maxAbsDiff(base.narrow(1, t, 1), other.narrow(1, t, 1)) > 0, "token " + t + " changed nothing");
                }
            }
        }
    }

    /** One document everywhere is the plain causal mask; the shortened layers read the document ids of positions jk. */
    @Test
    void aSingleDocumentMaskIsTheCausalMask() {
        ModelConfig c = hourglass(Fixtures.llama(), "1@1,1@3,1@1/linear/linear");
        LanguageModel m = Models.create(c, new Generator(52));
        Tensor ids = Fixtures.ids(53, 2, 10, c.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor plain = m.forward(ids, null).data();
            Tensor one = m.forward(ids, new dev.tessera.nn.attention.AttentionMask(true, Tensor.zeros(DType.I64, 2, 10), 0)).data();
            assertTrue(Fixtures.maxAbsDiff(plain, one) < 1e-6);
            long[] docs = new long[20];
            java.util.Arrays.fill(docs, 5, 10, 1); // row 0: a second document from position 5
            Tensor two = m.forward(ids, new dev.tessera.nn.attention.AttentionMask(true, Tensor.of(docs, 2, 10), 0)).data();
            assertTrue(Fixtures.maxAbsDiff(plain.narrow(1, 0, 5), two.narrow(1, 0, 5)) < 1e-6, "the first document is unchanged");
            assertTrue(Fixtures.maxAbsDiff(plain.narrow(0, 0, 1).narrow(1, 6, 4), two.narrow(0, 0, 1).narrow(1, 6, 4)) > 1e-4,
                    "the second document stops attending to the first");
        }
    }

    /** The shortened layers are used: the same weights without the hourglass give other logits from position k on (k = 2 here). */
    @Test
    void theShortenedLayersChangeWhatTheModelComputes() {
        ModelConfig c = hourglass(Fixtures.llama(), "1@1,2@2,1@1/avg/repeat");
        ModelConfig plain = c.toBuilder().hourglass(null).build();
        LanguageModel m = Models.create(c, new Generator(43));
        LanguageModel p = Models.create(plain, new Generator(44));
        p.module().loadStateDict(m.stateDict(), true);
        Tensor ids = Fixtures.ids(45, 2, 10, c.vocabSize());
        try (var s = GradMode.noGrad()) {
            assertTrue(Fixtures.maxAbsDiff(m.forward(ids, null).data(), p.forward(ids, null).data()) > 1e-3);
        }
    }

    /** A prompt, then single tokens and a chunk of 3, from preallocated caches: the full forward's logits; shortened caches hold ⌈P/k⌉. */
    @Test
    void cachedDecodingEqualsTheFullForward() {
        for (ModelConfig c : configs()) {
            LanguageModel m = Models.create(c, new Generator(46));
            m.module().eval();
            int t = 14;
            Tensor ids = Fixtures.ids(47, 2, t, c.vocabSize());
            int k = c.hourglass().factor();
            for (int prompt : new int[] {1, 4, 5}) {
                try (var s = GradMode.noGrad()) {
                    Tensor full = m.forward(ids, null).data(); // (B, T, V)
                    List<KvCache> caches = m.newCaches(2, c.contextLength());
                    double worst = Fixtures.maxAbsDiff(m.forward(ids.narrow(1, 0, prompt).contiguous(), null, caches).data(),
                            full.narrow(1, 0, prompt));
                    int p = prompt;
                    while (p < t) {
                        int n = p == 7 ? 3 : 1; // one chunk of several tokens crosses a shortened-token boundary
                        Tensor step = m.forward(ids.narrow(1, p, n).contiguous(), null, caches).data();
                        worst = Math.max(worst, Fixtures.maxAbsDiff(step, full.narrow(1, p, n)));
                        p += n;
                        for (int l = 0; l < c.layers(); l++) {
                            int want = c.hourglass().shortened(l) ? Math.ceilDiv(p, k) : p;
                            assertEquals(want, caches.get(l).length(), "layer " + l + " after " + p + " positions");
                        }
                    }
                    assertTrue(worst < 2e-4, c.hourglass() + " " + c.architecture() + " prompt " + prompt + ": cached logits differ by " + worst);
                }
            }
        }
    }

    /** The generation path: greedy tokens from the cached generator equal greedy tokens recomputed by full forwards; past the context it keeps going. */
    @Test
    void generationFromCachesEqualsRecomputation() {
        ModelConfig c = hourglass(Fixtures.gpt2(), "1@1,1@3,1@1/linear/linear");
        LanguageModel m = Models.create(c, new Generator(48));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
        var longer = new TextGenerator(m).generate(prompt, 30, Sampler.greedy(), new Generator(1), -1, tok -> { });
        assertEquals(30, longer.tokens().length);
        assertTrue(longer.contextShifts() > 0, "the cache refill after the context (a new hourglass stream) was exercised");
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig c : List.of(hourglass(Fixtures.llama(), "1@1,1@2,1@1/linear/linear"), hourglass(Fixtures.gpt2(), "1@1,1@2,1@1"))) {
            LanguageModel m = Models.create(c, new Generator(49));
            double[] loss = Fixtures.train(m, 20, 1e-2, 50);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + " " + c.hourglass() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = hourglass(Fixtures.llama(), "1@1,2@2,1@1/linear/linear");
        assertEquals("1@1,2@2,1@1/linear/linear", c.toHuggingFace().get("tessera").get("hourglass").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        ModelConfig g = hourglass(Fixtures.gpt2(), "0@1,2@4,1@1");
        assertEquals(g, ModelConfig.fromJson(g.toJson()));
        assertTrue(!Fixtures.llama().toHuggingFace().get("tessera").has("hourglass"));
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.hourglass.down_proj.weight") && names.contains("model.hourglass.up_proj.weight"), names.toString());
        assertTrue(Models.create(g, new Generator(1)).stateDict().keySet().stream().noneMatch(n -> n.contains("hourglass")), "avg/repeat has no parameters");
    }

    @Test
    void badValuesAreOneLineErrors() {
        Hourglass.Options h = Hourglass.Options.parse("1@1,2@2,1@1");
        var e = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().hourglass(h).build());
        assertEquals("ModelConfig: hourglass 1@1,2@2,1@1/avg/repeat has 4 layers, the model 2", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> hourglass(Fixtures.llama().toBuilder()
                .attentionKind(AttentionKind.REALFORMER).build(), "1@1,2@2,1@1"));
        assertTrue(f.getMessage().startsWith("ModelConfig: hourglass does not combine with realformer"), f.getMessage());
        var b = assertThrows(IllegalArgumentException.class, () -> hourglass(ModelConfig.bert(40, 16, 2, 32, 4, 48), "1@1,2@2,1@1"));
        assertEquals("ModelConfig: hourglass 1@1,2@2,1@1/avg/repeat is for the causal decoders, not bert", b.getMessage());
        var n = assertThrows(IllegalArgumentException.class, () -> hourglass(Fixtures.llama(), "0@1,2@2,0@1"));
        assertTrue(n.getMessage().startsWith("ModelConfig: hourglass 0@1,2@2,0@1/avg/repeat needs a full-length"), n.getMessage());
        var json = hourglass(Fixtures.llama(), "1@1,2@2,1@1").toHuggingFace();
        ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("tessera")).put("hourglass", "1@1,2@2,1@1/max");
        var j = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json));
        assertEquals("config.json: tessera.hourglass: '1@1,2@2,1@1/max': shortening 'max' is not one of [avg, linear]", j.getMessage());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 51, "--hourglass", "1@1,1@2,1@1/linear/linear");
        assertEquals(Hourglass.Options.parse("1@1,1@2,1@1/linear/linear"), c.hourglass());
        assertEquals(3, c.layers(), "the spec sets the layer count");
        String[] resume = {"train", "--model-config", dir.resolve("model.json").toString(), "--data", dir.resolve("data.txt").toString(),
            "--runs-dir", dir.resolve("runs").toString(), "--cache-dir", dir.resolve("cache").toString(), "--name", "r", "--steps", "4",
            "--eval-every", "2", "--checkpoint-every", "2", "--eval-batches", "1", "--batch-size", "2", "--sample-tokens", "0", "--resume",
            "--hourglass"};
        StringWriter err = new StringWriter();
        var cl = dev.tessera.models.cli.Tessera.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        String[] other = java.util.Arrays.copyOf(resume, resume.length + 1);
        other[resume.length] = "1@1,1@2,1@1/avg/linear";
        assertTrue(cl.execute(other) != 0);
        assertTrue(err.toString().strip().endsWith("contradicts the run's " + dir.resolve("runs/r/config.json") + " (hourglass 1@1,1@2,1@1/linear"
                + "/linear); a resume rebuilds the run as it was created: drop the option") && err.toString().strip().lines().count() == 1,
                err.toString());
        other[resume.length] = "1@1,1@2,1@1/linear/linear"; // the same split, and the --model-config it started from: resumes
        assertEquals(0, cl.execute(other), err.toString());
        StringWriter badErr = new StringWriter();
        var bad = dev.tessera.models.cli.Tessera.commandLine();
        bad.setOut(new PrintWriter(new StringWriter()));
        bad.setErr(new PrintWriter(badErr));
        assertTrue(bad.execute("train", "--hourglass", "1@1,1@2", "--runs-dir", dir.toString(), "--data", dir.toString()) != 0);
        assertEquals("tessera: train: --hourglass: hourglass: '1@1,1@2': expected pre@1,shortened@k,post@1[/avg|linear[/repeat|linear]],"
                + " e.g. 1@1,2@2,1@1/linear/linear", badErr.toString().strip());
    }
}
