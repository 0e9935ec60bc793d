package dev.tessera.models.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code run.json}: the marker of a Tessera run directory and the record of what it trains on,
 * written (atomically) first when the run is created and never changed by a resume. Only a
 * directory that carries it is ever reused or deleted by {@code --overwrite}; {@code eval} reads
 * the data, tokenizer and split from it.
 *
 * <pre>
 * { "format": "tessera-run", "version": 1,
 *   "data": "/abs/path/one.txt",        the --data path, absolute; null for the JDK's java.base sources
 *   "data_tokens": 15204,               tokens of the data when the run was created (EODs excluded)
 *   "tokenizer": "bytes",               or "tokenizer.json" (the copy beside config.json)
 *   "seed": 1337,                       initialisation and data order
 *   "sequence_length": 256,
 *   "validation_fraction": 0.01, "split_seed": 0,
 *   "split": "tail" }                   how validation was held out: "documents", "tail" or "none"
 * </pre>
 */
public record RunInfo(String data, long dataTokens, String tokenizer, long seed, int sequenceLength, double validationFraction,
        long splitSeed, String split) {
    public static final String FILE = "run.json";
    static final String FORMAT = "tessera-run";
    static final int VERSION = 1;

    public RunInfo {
        if (!tokenizer.equals("bytes") && !tokenizer.equals("tokenizer.json")) {
            throw new IllegalArgumentException("run.json: tokenizer must be \"bytes\" or \"tokenizer.json\", got " + tokenizer);
        }
    }

    /** The data path, or null for the default corpus. */
    public Path dataPath() {
        return data == null ? null : Path.of(data);
    }

    public String toJson() {
        ObjectNode o = JsonFiles.JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("data", data);
        o.put("data_tokens", dataTokens);
        o.put("tokenizer", tokenizer);
        o.put("seed", seed);
        o.put("sequence_length", sequenceLength);
        o.put("validation_fraction", validationFraction);
        o.put("split_seed", splitSeed);
        o.put("split", split);
        try {
            return JsonFiles.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code runDir/run.json} atomically: a temporary file, fsynced, renamed over it. */
    public void write(Path runDir) throws IOException {
        AtomicFile.write(runDir.resolve(FILE), toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** Reads and checks {@code runDir/run.json}; every problem is one line naming the file. */
    public static RunInfo read(Path runDir) {
        Path file = runDir.resolve(FILE);
        ObjectNode o = JsonFiles.object(file);
        if (!FORMAT.equals(o.path("format").asText(null))) {
            throw JsonFiles.bad(file, "is not a Tessera run marker (\"format\" must be \"" + FORMAT + "\")");
        }
        long version = JsonFiles.wholeNumber(o, "version", 1, file);
        if (version != VERSION) {
            throw JsonFiles.bad(file, "has version " + version + "; this Tessera reads version " + VERSION);
        }
        String tokenizer = JsonFiles.text(o, "tokenizer", false, file);
        if (!tokenizer.equals("bytes") && !tokenizer.equals("tokenizer.json")) {
            throw JsonFiles.bad(file, "\"tokenizer\" must be \"bytes\" or \"tokenizer.json\", got \"" + tokenizer + "\"");
        }
        double fraction = JsonFiles.number(o, "validation_fraction", file);
        if (!(fraction >= 0 && fraction < 1)) {
            throw JsonFiles.bad(file, "\"validation_fraction\" must be in [0, 1), got " + fraction);
        }
        return new RunInfo(JsonFiles.text(o, "data", true, file), JsonFiles.wholeNumber(o, "data_tokens", 0, file), tokenizer,
                JsonFiles.wholeNumber(o, "seed", Long.MIN_VALUE, file), (int) Math.min(Integer.MAX_VALUE,
                        JsonFiles.wholeNumber(o, "sequence_length", 1, file)), fraction, JsonFiles.wholeNumber(o, "split_seed", Long.MIN_VALUE, file),
                JsonFiles.text(o, "split", false, file));
    }
}
