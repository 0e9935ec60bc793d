package dev.tessera.models.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tessera.models.Bert;
import dev.tessera.models.GPT2;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Import and export of Hugging Face checkpoint directories ({@code config.json} plus
 * {@code model.safetensors}, or shards listed in {@code model.safetensors.index.json}) for
 * LlamaForCausalLM, GPT2LMHeadModel and BertForMaskedLM. GPT-2's Conv1D weights are transposed on the way in and
 * out; everything else keeps its name and layout. Half-precision checkpoints are widened to the
 * model's dtype on load.
 */
public final class HuggingFaceCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceCheckpoint() {}

    /** Builds the model config.json describes and loads its weights. */
    public static LanguageModel load(Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("hf: " + dir + " has no config.json");
        }
        ModelConfig cfg = ModelConfig.fromHuggingFace(config);
        LanguageModel model = Models.create(cfg, new Generator(0));
        Map<String, Tensor> weights = readWeights(dir);
        if (model instanceof GPT2 gpt2) {
            gpt2.loadHuggingFace(weights);
        } else if (model instanceof Bert bert) {
            bert.loadHuggingFace(weights); // drops transformers' tied decoder copies, pooler and id buffers
        } else {
            loadStrict(model, weights);
        }
        return model;
    }

    /** Every tensor of the checkpoint, from one file or from the shards its index lists. */
    public static Map<String, Tensor> readWeights(Path dir) throws IOException {
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return SafeTensors.read(single);
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) {
            throw new IllegalArgumentException("hf: " + dir + " has neither model.safetensors nor model.safetensors.index.json");
        }
        JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
        if (!map.isObject()) {
            throw new IllegalArgumentException("hf: " + index + " has no weight_map object");
        }
        Map<String, Map<String, Tensor>> shards = new LinkedHashMap<>();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            String file = e.getValue().asText();
            if (file.contains("/") || file.contains("..")) {
                throw new IllegalArgumentException("hf: weight_map entry " + e.getKey() + " points outside the checkpoint: " + file);
            }
            Map<String, Tensor> shard = shards.computeIfAbsent(file, f -> {
                try {
                    return SafeTensors.read(dir.resolve(f));
                } catch (IOException ex) {
                    throw new IllegalArgumentException("hf: cannot read shard " + f + ": " + ex.getMessage());
                }
            });
            Tensor t = shard.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("hf: shard " + file + " lacks tensor " + e.getKey() + " that the index lists");
            }
            out.put(e.getKey(), t);
        }
        return out;
    }

    /** Loads by name; missing parameters are an error listing them, rotary caches are ignored. */
    static void loadStrict(LanguageModel model, Map<String, Tensor> weights) {
        Map<String, Tensor> own = model.module().stateDict();
        Map<String, Tensor> usable = new LinkedHashMap<>(weights);
        usable.keySet().removeIf(k -> k.endsWith("rotary_emb.inv_freq"));
        if (model.config().tieEmbeddings()) {
            usable.remove("lm_head.weight");
        }
        TreeSet<String> missing = new TreeSet<>(own.keySet());
        missing.removeAll(usable.keySet());
        TreeSet<String> unexpected = new TreeSet<>(usable.keySet());
        unexpected.removeAll(own.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException("hf: checkpoint does not match the " + model.config().architecture() + " config: missing "
                    + missing + ", unexpected " + unexpected);
        }
        model.module().loadStateDict(usable, true);
    }

    /** Writes config.json and model.safetensors in Hugging Face's layout, so transformers can load them. */
    public static void save(LanguageModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = model.stateDict();
        if (model instanceof GPT2) {
            state = GPT2.toHuggingFaceLayout(state);
        }
        Path config = dir.resolve("config.json");
        Path tmp = dir.resolve("config.json.tmp");
        Files.writeString(tmp, model.config().toJson());
        Files.move(tmp, config, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        SafeTensors.write(dir.resolve("model.safetensors"), state, Map.of("format", "pt"));
    }
}
