package dev.tessera.models.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's {@code state.json}: where training stands besides the weights and the optimizer
 * moments, and the training configuration in force, so a resume continues the run's own schedule.
 *
 * <pre>
 * { "step": 100,                  the optimizer steps done (equals the directory's step-NNNNNNNN)
 *   "data_offset": 0,             data batches skipped by spike rollbacks
 *   "rollbacks": 0,
 *   "seed": 1337,                 (a copy of train_config.seed, for readers)
 *   "train_config": { … },        {@link TrainConfig}'s components by name
 *   "steps_changes": [ { "atStep": 200, "fromSteps": 200, "toSteps": 1000 } ],   see {@link Schedule}
 *   "grad_scaler": { "scale": 65536.0, "_growth_tracker": 12.0, … } }   fp16 runs only (G9, GradScaler's state dict)
 * </pre>
 *
 * Reading is strict: a missing, mistyped or out-of-range field is one line naming the file. A
 * train_config without "dtype" (written before --dtype existed) reads as fp32.
 */
public record TrainState(long step, long dataOffset, int rollbacks, TrainConfig config, List<Schedule.Change> stepsChanges,
        Map<String, Double> gradScaler) {
    public TrainState {
        stepsChanges = List.copyOf(stepsChanges);
        gradScaler = Map.copyOf(gradScaler);
    }

    /** Without a loss scaler (fp32 and bf16 runs). */
    public TrainState(long step, long dataOffset, int rollbacks, TrainConfig config, List<Schedule.Change> stepsChanges) {
        this(step, dataOffset, rollbacks, config, stepsChanges, Map.of());
    }

    public String toJson() {
        ObjectNode o = JsonFiles.JSON.createObjectNode();
        o.put("step", step);
        o.put("data_offset", dataOffset);
        o.put("rollbacks", rollbacks);
        o.put("seed", config.seed());
        o.set("train_config", JsonFiles.JSON.valueToTree(config));
        o.set("steps_changes", JsonFiles.JSON.valueToTree(stepsChanges));
        if (!gradScaler.isEmpty()) {
            o.set("grad_scaler", JsonFiles.JSON.valueToTree(new java.util.TreeMap<>(gradScaler)));
        }
        try {
            return JsonFiles.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The state of checkpoint {@code ck}, checked against the step its directory is named for; a problem is one line for a resume. */
    public static TrainState read(Checkpoints.Checkpoint ck) {
        try {
            return parse(ck);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: resume: " + e.getMessage(), e);
        }
    }

    private static TrainState parse(Checkpoints.Checkpoint ck) {
        Path file = ck.path().resolve(Checkpoints.STATE);
        ObjectNode o = JsonFiles.object(file);
        long step = JsonFiles.wholeNumber(o, "step", 0, file);
        if (ck.step() >= 0 && step != ck.step()) {
            throw JsonFiles.bad(file, "\"step\" is " + step + " but the checkpoint directory is for step " + ck.step());
        }
        long offset = JsonFiles.wholeNumber(o, "data_offset", 0, file);
        long rollbacks = JsonFiles.wholeNumber(o, "rollbacks", 0, file);
        if (!o.has("train_config")) {
            throw JsonFiles.bad(file, "has no \"train_config\"");
        }
        JsonNode recorded = o.get("train_config");
        if (recorded instanceof ObjectNode c && !c.has("dtype")) {
            recorded = c.deepCopy().put("dtype", "fp32");
        }
        TrainConfig cfg = JsonFiles.convert(recorded, TrainConfig.class, "train_config", file);
        List<Schedule.Change> changes = new ArrayList<>();
        JsonNode list = o.get("steps_changes");
        if (list != null && !(list instanceof ArrayNode)) {
            throw JsonFiles.bad(file, "\"steps_changes\" must be an array, got " + list);
        }
        if (list != null) {
            for (JsonNode c : list) {
                changes.add(JsonFiles.convert(c, Schedule.Change.class, "steps_changes", file));
            }
        }
        long last = changes.isEmpty() ? cfg.steps() : changes.get(changes.size() - 1).toSteps();
        if (last != cfg.steps()) {
            throw JsonFiles.bad(file, "\"steps_changes\" end at " + last + " steps but train_config has " + cfg.steps());
        }
        Map<String, Double> scaler = new java.util.LinkedHashMap<>();
        JsonNode saved = o.get("grad_scaler");
        if (saved != null && !(saved instanceof ObjectNode)) {
            throw JsonFiles.bad(file, "\"grad_scaler\" must be an object, got " + saved);
        }
        if (saved != null) {
            for (var e : saved.properties()) {
                if (!e.getValue().isNumber()) {
                    throw JsonFiles.bad(file, "\"grad_scaler\"." + e.getKey() + " must be a number, got " + e.getValue());
                }
                scaler.put(e.getKey(), e.getValue().asDouble());
            }
        }
        return new TrainState(step, offset, (int) Math.min(Integer.MAX_VALUE, rollbacks), cfg, changes, scaler);
    }
}
