package dev.tessera.models.train;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Strict reading of a run's small JSON files (run.json, state.json): every problem is an
 * {@link IllegalArgumentException} with one line that starts with the file, so a damaged file stops
 * the command before anything is written, instead of a default value quietly standing in.
 */
final class JsonFiles {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private JsonFiles() {}

    /** The JSON object in {@code file}. */
    static ObjectNode object(Path file) {
        try {
            return object(file, Files.readString(file));
        } catch (NoSuchFileException e) {
            throw bad(file, "is missing");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot be read: " + e.getMessage(), e);
        }
    }

    static ObjectNode object(Path file, String text) {
        if (text.isBlank()) {
            throw bad(file, "is empty");
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw bad(file, "is not JSON (" + oneLine(e) + ")");
        }
        if (!(node instanceof ObjectNode o)) {
            throw bad(file, "must hold a JSON object, got " + node.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return o;
    }

    /** A whole number {@code >= min} under {@code field}. */
    static long wholeNumber(ObjectNode o, String field, long min, Path file) {
        JsonNode v = o.get(field);
        if (v == null) {
            throw bad(file, "has no \"" + field + "\"");
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min) {
            throw bad(file, "\"" + field + "\" must be a whole number >= " + min + ", got " + v);
        }
        return v.asLong();
    }

    /** A finite number under {@code field}. */
    static double number(ObjectNode o, String field, Path file) {
        JsonNode v = o.get(field);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw bad(file, "\"" + field + "\" must be a finite number, got " + v);
        }
        return v.asDouble();
    }

    /** A string under {@code field}, or null where {@code nullable} and the value is null. */
    static String text(ObjectNode o, String field, boolean nullable, Path file) {
        JsonNode v = o.get(field);
        if (v != null && v.isTextual()) {
            return v.asText();
        }
        if (nullable && v != null && v.isNull()) {
            return null;
        }
        throw bad(file, "\"" + field + "\" must be a string" + (nullable ? " or null" : "") + ", got " + v);
    }

    /** {@code value} read as a {@code type} (a record validated in its constructor). */
    static <T> T convert(JsonNode value, Class<T> type, String field, Path file) {
        try {
            return JSON.treeToValue(value, type);
        } catch (JsonProcessingException e) {
            Throwable cause = e.getCause();
            throw bad(file, "\"" + field + "\": " + (cause instanceof IllegalArgumentException ? cause.getMessage() : oneLine(e)));
        } catch (IllegalArgumentException e) {
            throw bad(file, "\"" + field + "\": " + e.getMessage());
        }
    }

    static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException(file + ": " + problem);
    }

    private static String oneLine(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        m = m.lines().findFirst().orElse("").strip();
        JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 0 ? m : m + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }
}
