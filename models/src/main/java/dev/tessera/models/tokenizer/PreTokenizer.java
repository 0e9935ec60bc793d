package dev.tessera.models.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the "words" that byte-level BPE merges within (merges never cross a word
 * boundary; Radford et al. 2019 split on this regex so that e.g. {@code dog.} / {@code dog!} /
 * {@code dog?} do not become separate tokens). The steps mirror a Hugging Face {@code tokenizer.json}
 * pre-tokenizer of the form {@code Sequence[Split(regex, Isolated)*, ByteLevel(add_prefix_space,
 * use_regex)]}, applied in this order:
 * <ol>
 *   <li>each {@linkplain #splitPatterns() split pattern} in turn: every piece is cut into its
 *       matches and the text between matches (Hugging Face's {@code Isolated} behaviour);</li>
 *   <li>{@linkplain #addPrefixSpace() add_prefix_space}: a space is prepended to each piece that does
 *       not start with one (so {@code "Hello"} encodes like {@code " Hello"} does mid-sentence);</li>
 *   <li>{@linkplain #useRegex() use_regex}: each piece is split again by {@link #GPT2_PATTERN}.</li>
 * </ol>
 * GPT-2 is {@code ([], false, true)}; Llama 3 is {@code ([LLAMA3_PATTERN], false, false)}.
 *
 * <p><b>Regex dialect.</b> Hugging Face runs these patterns with Oniguruma (the Rust {@code onig}
 * crate; {@code fancy-regex} in WASM builds), tiktoken with {@code fancy-regex}; in all of them {@code \s} is Unicode {@code White_Space}, {@code \p{L}} and
 * {@code \p{N}} are the Unicode general categories, and {@code (?i)} folds case by Unicode rules.
 * Java's {@code \p{L}} and {@code \p{N}} are already the general categories, but plain {@code \s} is
 * only {@code [ \t\n\x0B\f\r]} and {@code (?i)} only folds ASCII, so patterns are compiled with
 * {@link Pattern#UNICODE_CHARACTER_CLASS} (which implies {@link Pattern#UNICODE_CASE}): then
 * {@code \s} matches U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and
 * U+3000 as Rust does. Alternation is leftmost-first and {@code (?!\S)} backtracks in both engines.
 * Checked over every code point: with this flag Java's {@code \p{L}}, {@code \p{N}} and {@code \s}
 * agree with the general categories and {@code White_Space} of Python's Unicode 14 tables for every
 * code point assigned in Unicode 14. Remaining divergences: the Unicode version of the character tables (the JDK's vs the Rust crate's,
 * which differ only for code points assigned in the newer version), and Java strings may hold
 * unpaired surrogates, which Rust strings cannot: they match no class but {@code [^\s\p{L}\p{N}]}
 * and are encoded as {@code '?'} by {@link String#getBytes(java.nio.charset.Charset)}.
 */
public final class PreTokenizer {
    /** GPT-2's split regex (also GPT-J, GPT-NeoX, RoBERTa, and Hugging Face's ByteLevel use_regex). */
    public static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Llama 3's split regex (tiktoken's {@code cl100k_base} pattern). */
    public static final String LLAMA3_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final Pattern GPT2 = compile(GPT2_PATTERN);

    private final List<String> splitPatterns;
    private final List<Pattern> compiled;
    private final boolean addPrefixSpace;
    private final boolean useRegex;

    /** @throws IllegalArgumentException if a pattern is not a valid Java regex */
    public PreTokenizer(List<String> splitPatterns, boolean addPrefixSpace, boolean useRegex) {
        this.splitPatterns = List.copyOf(splitPatterns);
        List<Pattern> c = new ArrayList<>();
        for (String p : this.splitPatterns) {
            c.add(compile(p));
        }
        this.compiled = List.copyOf(c);
        this.addPrefixSpace = addPrefixSpace;
        this.useRegex = useRegex;
    }

    /** GPT-2: ByteLevel with use_regex. */
    public static PreTokenizer gpt2() {
        return new PreTokenizer(List.of(), false, true);
    }

    /** Llama 3: Split(LLAMA3_PATTERN), then ByteLevel without regex. */
    public static PreTokenizer llama3() {
        return new PreTokenizer(List.of(LLAMA3_PATTERN), false, false);
    }

    /** {@code gpt2} or {@code llama3}. */
    public static PreTokenizer named(String name) {
        return switch (name) {
            case "gpt2" -> gpt2();
            case "llama3" -> llama3();
            default -> throw new IllegalArgumentException("PreTokenizer: unknown pattern " + name + " (expected gpt2 or llama3)");
        };
    }

    private static Pattern compile(String regex) {
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("PreTokenizer: invalid regex " + regex + " (" + e.getDescription() + ")", e);
        }
    }

    public List<String> splitPatterns() {
        return splitPatterns;
    }

    public boolean addPrefixSpace() {
        return addPrefixSpace;
    }

    public boolean useRegex() {
        return useRegex;
    }

    /** The words of {@code text}, in order; their concatenation is {@code text} (plus any prefix spaces). */
    public List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        if (text.isEmpty()) {
            return pieces;
        }
        pieces.add(text);
        for (Pattern p : compiled) {
            pieces = splitIsolated(pieces, p);
        }
        if (addPrefixSpace) {
            pieces.replaceAll(s -> s.startsWith(" ") ? s : " " + s);
        }
        if (useRegex) {
            pieces = splitIsolated(pieces, GPT2);
        }
        return pieces;
    }

    private static List<String> splitIsolated(List<String> pieces, Pattern p) {
        List<String> out = new ArrayList<>(pieces.size() * 4);
        for (String s : pieces) {
            Matcher m = p.matcher(s);
            int last = 0;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue; // an empty match splits nothing (Hugging Face drops empty pieces)
                }
                if (m.start() > last) {
                    out.add(s.substring(last, m.start()));
                }
                out.add(s.substring(m.start(), m.end()));
                last = m.end();
            }
            if (last < s.length()) {
                out.add(s.substring(last));
            }
        }
        return out;
    }

    /** Identifies the configuration, for {@link BpeTokenizer#id()}. */
    String fingerprint() {
        return "split=" + splitPatterns + "\nprefix=" + addPrefixSpace + "\nregex=" + useRegex;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PreTokenizer p && p.splitPatterns.equals(splitPatterns) && p.addPrefixSpace == addPrefixSpace && p.useRegex == useRegex;
    }

    @Override
    public int hashCode() {
        return Objects.hash(splitPatterns, addPrefixSpace, useRegex);
    }

    @Override
    public String toString() {
        return "PreTokenizer" + (splitPatterns.isEmpty() ? "" : splitPatterns) + (addPrefixSpace ? " add_prefix_space" : "") + (useRegex ? " gpt2-regex" : "");
    }
}
