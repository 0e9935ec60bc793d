package dev.tessera.models.tokenizer;

import java.util.Objects;

/**
 * A token matched verbatim in the input before pre-tokenization, such as {@code <|endoftext|>} or
 * {@code <|begin_of_text|>}: Hugging Face's {@code added_tokens} entry. Its text is never split or
 * merged, and it decodes to {@code content}.
 *
 * @param id      its id
 * @param content the exact text it stands for (non-empty)
 * @param special whether it is a control token (only recorded and saved; matching is the same)
 */
public record AddedToken(int id, String content, boolean special) {
    public AddedToken {
        Objects.requireNonNull(content, "content");
        if (id < 0) {
            throw new IllegalArgumentException("AddedToken: id " + id + " of " + content + " is negative");
        }
        if (content.isEmpty()) {
            throw new IllegalArgumentException("AddedToken: id " + id + " has empty content");
        }
    }
}
