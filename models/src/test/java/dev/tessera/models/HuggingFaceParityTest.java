package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.autograd.GradMode;
import dev.tessera.models.hf.HuggingFaceCheckpoint;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logit parity with Hugging Face {@code transformers}: the fixtures under {@code hf-fixtures/}
 * were written by {@code models/tools/make_hf_fixtures.py} with {@code save_pretrained} (a Llama
 * with GQA and rope_theta 500000, untied, tied and sharded, and a GPT-2 with its Conv1D layout),
 * together with transformers' logits for one sequence. Each is imported, run in full and token by
 * token with the KV cache, and exported again under {@code target/hf-export/} where
 * {@code make_hf_fixtures.py --check-export} loads it back with transformers.
 */
class HuggingFaceParityTest {
    private static final double TOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama-gqa-tied", "llama-gqa-sharded", "gpt2"})
    void importedModelGivesTransformersLogits(String name) throws Exception {
        Path dir = fixture(name);
        Map<String, Tensor> expected = SafeTensors.read(dir.resolve("expected.safetensors"));
        Tensor ids = expected.get("input_ids");
        Tensor logits = expected.get("logits");
        LanguageModel model = HuggingFaceCheckpoint.load(dir);
        model.module().eval();
        try (var scope = GradMode.noGrad()) {
            double full = Fixtures.maxAbsDiff(model.forward(ids, null).data(), logits);
            double cached = maxCachedDecodingError(model, ids, logits);
            System.out.printf("%s: max |logits - transformers| full %.2e, cached decoding %.2e%n", name, full, cached);
            assertTrue(full <= TOL, name + ": full forward differs from transformers by " + full);
            assertTrue(cached <= TOL, name + ": cached decoding differs from transformers by " + cached);

            Path export = Path.of("target", "hf-export", name);
            HuggingFaceCheckpoint.save(model, export);
            LanguageModel back = HuggingFaceCheckpoint.load(export);
            back.module().eval(); // GPT-2 configs carry dropout 0.1
            Map<String, Tensor> before = model.stateDict();
            Map<String, Tensor> after = back.stateDict();
            assertEquals(before.keySet(), after.keySet());
            for (String key : before.keySet()) {
                assertArrayEquals(before.get(key).toFloatArray(), after.get(key).toFloatArray(), name + ": " + key + " after export → import");
            }
            assertArrayEquals(model.forward(ids, null).data().toFloatArray(), back.forward(ids, null).data().toFloatArray(),
                    name + ": logits after export → import");
        }
    }

    /** Feeds the sequence one token at a time through the KV cache; compares each step's logits. */
    private static double maxCachedDecodingError(LanguageModel model, Tensor ids, Tensor expected) {
        int t = (int) ids.shape()[1];
        List<KvCache> caches = model.newCaches(1, t);
        double worst = 0;
        for (int i = 0; i < t; i++) {
            Tensor step = model.forward(ids.narrow(1, i, 1).contiguous(), null, caches).data();
            worst = Math.max(worst, Fixtures.maxAbsDiff(step, expected.narrow(1, i, 1).contiguous()));
        }
        return worst;
    }

    @Test
    void missingTensorsAreListedInOneLine(@TempDir Path tmp) throws IOException, URISyntaxException {
        Path src = fixture("llama-gqa-sharded");
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                Files.copy(f, tmp.resolve(f.getFileName()));
            }
        }
        ObjectMapper json = new ObjectMapper();
        Path index = tmp.resolve("model.safetensors.index.json");
        ObjectNode root = (ObjectNode) json.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).remove(List.of("model.layers.1.mlp.up_proj.weight", "model.norm.weight"));
        json.writeValue(index.toFile(), root);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HuggingFaceCheckpoint.load(tmp));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("missing [model.layers.1.mlp.up_proj.weight, model.norm.weight]"), e.getMessage());
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(HuggingFaceParityTest.class.getResource("/hf-fixtures/" + name + "/config.json").toURI()).getParent();
    }
}
