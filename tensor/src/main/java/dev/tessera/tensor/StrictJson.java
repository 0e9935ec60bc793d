package dev.tessera.tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict RFC 8259 JSON parser for safetensors headers (the {@code tensor} module may
 * depend on nothing but the JDK).
 *
 * <p>Strict because the header comes from untrusted files: exactly one value, then only
 * whitespace; no comments, trailing commas, leading zeros, raw control characters, lone
 * surrogate escapes or duplicate object keys (a duplicate could make two readers disagree on which
 * tensor a name means). Nesting is capped at {@link #MAX_DEPTH} so hostile input cannot overflow
 * the stack; everything else it allocates is proportional to the input length.
 *
 * <p>Values map to: object → {@code Map<String, Object>} (insertion-ordered, unmodifiable), array
 * → {@code List<Object>}, string → {@link String}, integer literal that fits a long → {@link Long},
 * any other number → {@link Num}, {@code true}/{@code false} → {@link Boolean}, {@code null} →
 * {@link #NULL}. Errors are {@link SafeTensorsException}s naming the problem and the offset.
 */
final class StrictJson {
    /** Deeper than any header needs (safetensors uses 3 levels), shallow enough for any stack. */
    static final int MAX_DEPTH = 64;

    /** The JSON {@code null} (maps cannot hold Java nulls unambiguously). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A number that is not an integer fitting a long; kept as its literal text. */
    record Num(String literal) {
        @Override
        public String toString() {
            return literal;
        }
    }

    private final CharSequence s;
    private int pos;

    private StrictJson(CharSequence s) {
        this.s = s;
    }

    /** Parses {@code text}, which must hold exactly one JSON value surrounded by optional whitespace. */
    static Object parse(CharSequence text) {
        StrictJson p = new StrictJson(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected " + p.describe() + " after the top-level value");
        }
        return v;
    }

    /** A short name for a parsed value's JSON type, for error messages. */
    static String typeName(Object v) {
        return switch (v) {
            case Map<?, ?> m -> "object";
            case List<?> l -> "array";
            case String str -> "string";
            case Long l -> "number";
            case Num n -> "number";
            case Boolean b -> "boolean";
            default -> "null";
        };
    }

    private Object value(int depth) {
        if (pos >= s.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = s.charAt(pos);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected " + describe() + ", expected a value");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return Collections.unmodifiableMap(map);
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("unexpected " + describe() + ", expected a string key");
            }
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth);
            if (map.putIfAbsent(key, v) != null) {
                pos = keyAt;
                throw error("duplicate key \"" + shorten(key) + "\"");
            }
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return Collections.unmodifiableMap(map);
            } else {
                throw error("unexpected " + describe() + ", expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        checkDepth(depth);
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return Collections.unmodifiableList(list);
            } else {
                throw error("unexpected " + describe() + ", expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        int start = pos;
        // Fast path: no escapes.
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '"') {
                String out = s.subSequence(start, pos).toString();
                pos++;
                return out;
            }
            if (c == '\\') {
                break;
            }
            if (c < 0x20) {
                throw error("raw control character U+" + String.format("%04X", (int) c) + " in a string");
            }
            pos++;
        }
        StringBuilder sb = new StringBuilder().append(s, start, pos);
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("raw control character U+" + String.format("%04X", (int) c) + " in a string");
            }
            if (c != '\\') {
                sb.append(c);
                pos++;
                continue;
            }
            pos++;
            if (pos >= s.length()) {
                break;
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (pos + 1 < s.length() && s.charAt(pos) == '\\' && s.charAt(pos + 1) == 'u') {
                            pos += 2;
                            char low = hex4();
                            if (!Character.isLowSurrogate(low)) {
                                pos -= 6;
                                throw error("high surrogate escape not followed by a low surrogate");
                            }
                            sb.append(u).append(low);
                        } else {
                            throw error("lone high surrogate escape");
                        }
                    } else if (Character.isLowSurrogate(u)) {
                        pos -= 6;
                        throw error("lone low surrogate escape");
                    } else {
                        sb.append(u);
                    }
                }
                default -> {
                    pos--;
                    throw error("invalid escape '\\" + printable(e) + "'");
                }
            }
        }
        throw error("unterminated string");
    }

    private char hex4() {
        if (pos + 4 > s.length()) {
            throw error("truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            char c = s.charAt(pos);
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) {
                throw error("invalid hex digit " + describe() + " in \\u escape");
            }
            v = v * 16 + d;
            pos++;
        }
        return (char) v;
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        char c = peek();
        if (c == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zero in a number");
            }
        } else if (isDigit(c)) {
            while (isDigit(peek())) {
                pos++;
            }
        } else {
            throw error("unexpected " + describe() + ", expected a digit");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("unexpected " + describe() + ", expected a digit after '.'");
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("unexpected " + describe() + ", expected a digit in the exponent");
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        String literal = s.subSequence(start, pos).toString();
        if (integral && literal.length() <= 20) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooBig) {
                // fall through: kept as text
            }
        }
        return new Num(literal);
    }

    private Object literal(String word, Object v) {
        if (pos + word.length() > s.length() || !s.subSequence(pos, pos + word.length()).toString().equals(word)) {
            throw error("unexpected " + describe() + ", expected a value");
        }
        pos += word.length();
        return v;
    }

    private void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("unexpected " + describe() + ", expected '" + c + "'");
        }
        pos++;
    }

    /** The current character, or U+FFFF at the end (never valid JSON there, so never matched). */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\uffff';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private String describe() {
        return pos >= s.length() ? "end of input" : "'" + printable(s.charAt(pos)) + "'";
    }

    private static String printable(char c) {
        return c < 0x20 || c == 0x7f || Character.isSurrogate(c) || c == '\uffff'
                ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    /** Keys go into one-line messages: cap their length and hide control characters. */
    static String shorten(String key) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.length() && sb.length() < 80; i++) {
            sb.append(printable(key.charAt(i)));
        }
        return sb.length() < 80 ? sb.toString() : sb + "...";
    }

    private SafeTensorsException error(String what) {
        return new SafeTensorsException("header is not valid JSON: " + what + " at offset " + pos);
    }
}
