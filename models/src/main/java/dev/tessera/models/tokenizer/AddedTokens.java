package dev.tessera.models.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds added tokens in text, leftmost first and, among those starting at the same place, longest
 * first (Hugging Face's Aho–Corasick {@code LeftmostLongest} match), and hands out the text between
 * them and the tokens found.
 *
 * <p>Hugging Face's per-token {@code single_word}, {@code lstrip}, {@code rstrip} and
 * {@code normalized} flags are not implemented: every added token matches exactly its content
 * anywhere (all four are off for GPT-2's and Llama 3's tokens).
 */
final class AddedTokens {
    /** Receives each stretch of ordinary text and each added token, in order. */
    interface Sink {
        void text(String text);

        void token(AddedToken token);
    }

    private final List<AddedToken> tokens;
    private final Map<String, AddedToken> byContent = new HashMap<>();
    private final Pattern pattern;

    AddedTokens(List<AddedToken> tokens) {
        this.tokens = List.copyOf(tokens);
        for (AddedToken t : this.tokens) {
            if (byContent.putIfAbsent(t.content(), t) != null) {
                throw new IllegalArgumentException("added token " + quote(t.content()) + " appears twice");
            }
        }
        if (this.tokens.isEmpty()) {
            pattern = null;
        } else {
            List<String> contents = new ArrayList<>(byContent.keySet());
            // longest first, so that the alternation's leftmost-first choice is also the longest
            contents.sort(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()));
            StringBuilder sb = new StringBuilder();
            for (String c : contents) {
                if (!sb.isEmpty()) {
                    sb.append('|');
                }
                sb.append(Pattern.quote(c));
            }
            pattern = Pattern.compile(sb.toString());
        }
    }

    List<AddedToken> tokens() {
        return tokens;
    }

    AddedToken byContent(String content) {
        return byContent.get(content);
    }

    void split(String text, Sink sink) {
        if (pattern == null) {
            if (!text.isEmpty()) {
                sink.text(text);
            }
            return;
        }
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                sink.text(text.substring(last, m.start()));
            }
            sink.token(byContent.get(m.group()));
            last = m.end();
        }
        if (last < text.length()) {
            sink.text(text.substring(last));
        }
    }

    /** Only the ordinary text between added tokens. */
    void forEachText(String text, Consumer<String> consumer) {
        split(text, new Sink() {
            @Override
            public void text(String t) {
                consumer.accept(t);
            }

            @Override
            public void token(AddedToken token) { }
        });
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
