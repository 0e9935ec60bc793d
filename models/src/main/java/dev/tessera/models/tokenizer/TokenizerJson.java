package dev.tessera.models.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes Hugging Face {@code tokenizer.json} files for byte-level BPE (Sennrich et al.
 * 2016; GPT-2's byte-level variant), the format of the Rust {@code tokenizers} library.
 *
 * <p><b>Supported.</b> {@code model} of type {@code BPE} with {@code vocab}, {@code merges} (either
 * {@code "a b"} strings or {@code ["a", "b"]} pairs), {@code unk_token} and {@code ignore_merges};
 * {@code added_tokens} ({@code id}, {@code content}, {@code special}); {@code pre_tokenizer}
 * {@code ByteLevel} ({@code add_prefix_space}, {@code use_regex}, default true) alone or as the last
 * step of a {@code Sequence} after {@code Split} steps with a {@code Regex} or {@code String} pattern,
 * behaviour {@code Isolated} and {@code invert: false} (Llama 3's layout); {@code decoder}
 * {@code ByteLevel}.
 *
 * <p><b>Ignored</b>: {@code post_processor} (templates such as Llama 3's, which prepend
 * {@code <|begin_of_text|>}, only act when Hugging Face encodes with {@code add_special_tokens};
 * {@link Tokenizer#encode} never adds tokens, so the data pipeline places its own end-of-document
 * ids), {@code truncation}, {@code padding}, {@code model.fuse_unk}, and the added tokens'
 * {@code single_word}/{@code lstrip}/{@code rstrip}/{@code normalized} flags.
 *
 * <p><b>Rejected</b> with a one-line {@link IllegalArgumentException}: any {@code normalizer}, other
 * model types, BPE dropout, {@code continuing_subword_prefix}/{@code end_of_word_suffix},
 * {@code byte_fallback}, other pre-tokenizers and decoders, and malformed or inconsistent fields
 * (e.g. {@code tokenizer.json: model.merges[12] is not a pair}).
 *
 * <p>{@code tokenizer.json} does not say which token ends a document (that is in
 * {@code tokenizer_config.json}); {@link #load(Path)} takes the first of {@link #DEFAULT_END_TOKENS}
 * that is an added token or in the vocabulary, and {@link #save} does not record it.
 */
public final class TokenizerJson {
    /** Tried in order by {@link #load(Path)} for the end-of-document token. */
    public static final List<String> DEFAULT_END_TOKENS = List.of("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>");

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TokenizerJson() {}

    /** Loads {@code path}, choosing the end-of-document token from {@link #DEFAULT_END_TOKENS}. */
    public static BpeTokenizer load(Path path) {
        return parse(read(path), path.toString(), null, true);
    }

    /** Loads {@code path} with the given end-of-document token (null for none). */
    public static BpeTokenizer load(Path path, String endOfDocumentToken) {
        return parse(read(path), path.toString(), endOfDocumentToken, false);
    }

    /** Parses {@code tokenizer.json} text, choosing the end-of-document token from {@link #DEFAULT_END_TOKENS}. */
    public static BpeTokenizer parse(String json) {
        return parse(json, "tokenizer.json", null, true);
    }

    /** Parses {@code tokenizer.json} text with the given end-of-document token (null for none). */
    public static BpeTokenizer parse(String json, String endOfDocumentToken) {
        return parse(json, "tokenizer.json", endOfDocumentToken, false);
    }

    private static String read(Path path) {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("tokenizer.json: cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static BpeTokenizer parse(String json, String source, String eod, boolean defaultEod) {
        return new Reader(source).read(json, eod, defaultEod);
    }

    /** Writes {@code tokenizer} to {@code path} (atomically: a temporary file, then a move). */
    public static void save(BpeTokenizer tokenizer, Path path) {
        try {
            Path abs = path.toAbsolutePath();
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            Files.writeString(tmp, toJson(tokenizer), StandardCharsets.UTF_8);
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("tokenizer.json: cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    /** The {@code tokenizer.json} text of {@code tokenizer}, laid out as Hugging Face writes it. */
    public static String toJson(BpeTokenizer tokenizer) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (AddedToken t : tokenizer.addedTokens()) {
            ObjectNode o = added.addObject();
            o.put("id", t.id());
            o.put("content", t.content());
            o.put("single_word", false);
            o.put("lstrip", false);
            o.put("rstrip", false);
            o.put("normalized", !t.special());
            o.put("special", t.special());
        }
        root.putNull("normalizer");
        PreTokenizer pre = tokenizer.preTokenizer();
        ObjectNode byteLevel = f.objectNode();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", pre.addPrefixSpace());
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", pre.useRegex());
        if (pre.splitPatterns().isEmpty()) {
            root.set("pre_tokenizer", byteLevel);
        } else {
            ObjectNode seq = root.putObject("pre_tokenizer");
            seq.put("type", "Sequence");
            ArrayNode steps = seq.putArray("pretokenizers");
            for (String p : pre.splitPatterns()) {
                ObjectNode s = steps.addObject();
                s.put("type", "Split");
                s.putObject("pattern").put("Regex", p);
                s.put("behavior", "Isolated");
                s.put("invert", false);
            }
            steps.add(byteLevel);
        }
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", true);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        if (tokenizer.unkToken() == null) {
            model.putNull("unk_token");
        } else {
            model.put("unk_token", tokenizer.unkToken());
        }
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", tokenizer.ignoreMerges());
        ObjectNode vocab = model.putObject("vocab");
        List<Map.Entry<String, Integer>> entries = new ArrayList<>(tokenizer.vocab().entrySet());
        entries.sort(Map.Entry.comparingByValue());
        for (Map.Entry<String, Integer> e : entries) {
            vocab.put(e.getKey(), e.getValue());
        }
        ArrayNode merges = model.putArray("merges");
        for (BpeTokenizer.Merge m : tokenizer.merges()) {
            if (m.left().contains(" ") || m.right().contains(" ")) {
                merges.addArray().add(m.left()).add(m.right());
            } else {
                merges.add(m.left() + " " + m.right());
            }
        }
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One parse, carrying the source name for messages. */
    private record Reader(String source) {
        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(source + ": " + what);
        }

        BpeTokenizer read(String json, String eod, boolean defaultEod) {
            JsonNode root;
            try {
                root = MAPPER.readTree(json);
            } catch (JsonProcessingException e) {
                throw error("not valid JSON (" + e.getOriginalMessage().lines().findFirst().orElse("") + " at line "
                        + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
            }
            if (root == null || !root.isObject()) {
                throw error("the top level is not a JSON object");
            }
            JsonNode normalizer = root.get("normalizer");
            if (normalizer != null && !normalizer.isNull()) {
                throw error("unsupported normalizer " + typeOf(normalizer) + " (only a null normalizer is supported)");
            }
            JsonNode model = root.get("model");
            if (model == null || model.isNull()) {
                throw error("missing field model");
            }
            if (!model.isObject()) {
                throw error("model is not an object");
            }
            JsonNode type = model.get("type");
            if (type != null && !type.isNull()) {
                if (!type.isTextual()) {
                    throw error("model.type is not a string");
                }
                if (!type.asText().equals("BPE")) {
                    throw error("unsupported model type " + type.asText() + " (only BPE is supported)");
                }
            }
            JsonNode dropout = model.get("dropout");
            if (dropout != null && !dropout.isNull() && !(dropout.isNumber() && dropout.asDouble() == 0)) {
                throw error("model.dropout " + dropout + " is not supported (BPE dropout)");
            }
            for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
                JsonNode a = model.get(affix);
                if (a != null && !a.isNull() && !(a.isTextual() && a.asText().isEmpty())) {
                    throw error("model." + affix + " " + a + " is not supported (byte-level BPE has none)");
                }
            }
            if (bool(model, "byte_fallback", false, "model.byte_fallback")) {
                throw error("model.byte_fallback is not supported (SentencePiece-style <0x..> byte tokens; this reader handles byte-level BPE)");
            }
            boolean ignoreMerges = bool(model, "ignore_merges", false, "model.ignore_merges");
            String unk = optionalString(model, "unk_token", "model.unk_token");

            Map<String, Integer> vocab = vocab(model);
            List<BpeTokenizer.Merge> merges = merges(model);
            List<AddedToken> added = addedTokens(root);
            PreTokenizer pre = preTokenizer(root.get("pre_tokenizer"));
            decoder(root.get("decoder"));

            if (defaultEod) {
                eod = null;
                for (String candidate : DEFAULT_END_TOKENS) {
                    boolean present = vocab.containsKey(candidate) || added.stream().anyMatch(t -> t.content().equals(candidate));
                    if (present) {
                        eod = candidate;
                        break;
                    }
                }
            }
            try {
                return new BpeTokenizer(vocab, merges, added, pre, ignoreMerges, unk, eod);
            } catch (IllegalArgumentException e) {
                String m = e.getMessage().replaceFirst("^BpeTokenizer: ", "");
                throw error((m.startsWith("merges") || m.startsWith("vocab") || m.startsWith("unk_token") ? "model." : "") + m);
            }
        }

        private Map<String, Integer> vocab(JsonNode model) {
            JsonNode v = model.get("vocab");
            if (v == null || v.isNull()) {
                throw error("missing field model.vocab");
            }
            if (!v.isObject()) {
                throw error("model.vocab is not an object");
            }
            Map<String, Integer> vocab = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode id = e.getValue();
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                    throw error("model.vocab[" + AddedTokens.quote(e.getKey()) + "] is not a non-negative integer");
                }
                vocab.put(e.getKey(), id.asInt());
            }
            return vocab;
        }

        private List<BpeTokenizer.Merge> merges(JsonNode model) {
            JsonNode m = model.get("merges");
            if (m == null || m.isNull()) {
                throw error("missing field model.merges");
            }
            if (!m.isArray()) {
                throw error("model.merges is not an array");
            }
            List<BpeTokenizer.Merge> merges = new ArrayList<>(m.size());
            for (int i = 0; i < m.size(); i++) {
                JsonNode e = m.get(i);
                if (e.isTextual()) {
                    String[] parts = e.asText().split(" ", -1);
                    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                        throw error("model.merges[" + i + "] is not a pair (expected \"left right\", got " + AddedTokens.quote(e.asText()) + ")");
                    }
                    merges.add(new BpeTokenizer.Merge(parts[0], parts[1]));
                } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()
                        && !e.get(0).asText().isEmpty() && !e.get(1).asText().isEmpty()) {
                    merges.add(new BpeTokenizer.Merge(e.get(0).asText(), e.get(1).asText()));
                } else {
                    throw error("model.merges[" + i + "] is not a pair");
                }
            }
            return merges;
        }

        private List<AddedToken> addedTokens(JsonNode root) {
            JsonNode a = root.get("added_tokens");
            List<AddedToken> out = new ArrayList<>();
            if (a == null || a.isNull()) {
                return out;
            }
            if (!a.isArray()) {
                throw error("added_tokens is not an array");
            }
            for (int i = 0; i < a.size(); i++) {
                JsonNode t = a.get(i);
                String where = "added_tokens[" + i + "]";
                if (!t.isObject()) {
                    throw error(where + " is not an object");
                }
                JsonNode id = t.get("id");
                if (id == null || id.isNull()) {
                    throw error("missing field " + where + ".id");
                }
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                    throw error(where + ".id is not a non-negative integer");
                }
                JsonNode content = t.get("content");
                if (content == null || content.isNull()) {
                    throw error("missing field " + where + ".content");
                }
                if (!content.isTextual() || content.asText().isEmpty()) {
                    throw error(where + ".content is not a non-empty string");
                }
                out.add(new AddedToken(id.asInt(), content.asText(), bool(t, "special", false, where + ".special")));
            }
            return out;
        }

        private PreTokenizer preTokenizer(JsonNode p) {
            if (p == null || p.isNull()) {
                throw error("missing field pre_tokenizer (a byte-level BPE needs a ByteLevel pre-tokenizer)");
            }
            String type = typeOf(p);
            if (type.equals("ByteLevel")) {
                return byteLevel(p, List.of(), "pre_tokenizer");
            }
            if (!type.equals("Sequence")) {
                throw error("unsupported pre_tokenizer type " + type + " (expected ByteLevel, or a Sequence of Split steps ending in ByteLevel)");
            }
            JsonNode steps = p.get("pretokenizers");
            if (steps == null || !steps.isArray() || steps.isEmpty()) {
                throw error("pre_tokenizer.pretokenizers is missing or empty");
            }
            List<String> patterns = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                JsonNode s = steps.get(i);
                String where = "pre_tokenizer.pretokenizers[" + i + "]";
                String t = typeOf(s);
                boolean last = i == steps.size() - 1;
                if (last && t.equals("ByteLevel")) {
                    return byteLevel(s, patterns, where);
                }
                if (!t.equals("Split")) {
                    throw error(where + ": unsupported type " + t + " (expected Split steps, then one ByteLevel last)");
                }
                JsonNode pattern = s.get("pattern");
                if (pattern != null && pattern.isObject() && pattern.hasNonNull("Regex") && pattern.get("Regex").isTextual()) {
                    patterns.add(pattern.get("Regex").asText());
                } else if (pattern != null && pattern.isObject() && pattern.hasNonNull("String") && pattern.get("String").isTextual()) {
                    patterns.add(java.util.regex.Pattern.quote(pattern.get("String").asText()));
                } else {
                    throw error(where + ".pattern is not {\"Regex\": ...} or {\"String\": ...}");
                }
                JsonNode behavior = s.get("behavior");
                if (behavior == null || !behavior.isTextual() || !behavior.asText().equals("Isolated")) {
                    throw error(where + ".behavior " + behavior + " is not supported (only Isolated)");
                }
                if (bool(s, "invert", false, where + ".invert")) {
                    throw error(where + ".invert true is not supported");
                }
            }
            throw error("pre_tokenizer: the Sequence does not end with a ByteLevel step");
        }

        private PreTokenizer byteLevel(JsonNode p, List<String> patterns, String where) {
            boolean prefix = bool(p, "add_prefix_space", true, where + ".add_prefix_space");
            boolean regex = bool(p, "use_regex", true, where + ".use_regex");
            try {
                return new PreTokenizer(patterns, prefix, regex);
            } catch (IllegalArgumentException e) {
                throw error(where + ": " + e.getMessage().replaceFirst("^PreTokenizer: ", ""));
            }
        }

        private void decoder(JsonNode d) {
            if (d == null || d.isNull()) {
                throw error("missing field decoder (expected ByteLevel)");
            }
            String type = typeOf(d);
            if (!type.equals("ByteLevel")) {
                throw error("unsupported decoder type " + type + " (expected ByteLevel)");
            }
        }

        private String typeOf(JsonNode n) {
            JsonNode t = n.get("type");
            if (!n.isObject() || t == null || !t.isTextual()) {
                throw error("a component has no string \"type\": " + abbreviate(n.toString()));
            }
            return t.asText();
        }

        private boolean bool(JsonNode n, String field, boolean dflt, String where) {
            JsonNode b = n.get(field);
            if (b == null || b.isNull()) {
                return dflt;
            }
            if (!b.isBoolean()) {
                throw error(where + " is not a boolean");
            }
            return b.asBoolean();
        }

        private String optionalString(JsonNode n, String field, String where) {
            JsonNode s = n.get(field);
            if (s == null || s.isNull()) {
                return null;
            }
            if (!s.isTextual()) {
                throw error(where + " is not a string");
            }
            return s.asText();
        }

        private static String abbreviate(String s) {
            return s.length() <= 60 ? s : s.substring(0, 57) + "...";
        }
    }
}
