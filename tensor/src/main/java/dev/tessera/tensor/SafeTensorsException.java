package dev.tessera.tensor;

import java.nio.file.Path;

/**
 * A safetensors file (or a request to write one) breaks a rule of the format. It is an
 * {@link IllegalArgumentException} because the file is the argument at fault; the message is one
 * line starting with {@code safetensors: } that names the file (reading: {@code safetensors: <file>:
 * ...}, writing: {@code safetensors: write <file>: ...}), the rule and, where there is one, the
 * tensor. A checkpoint directory holds several such files, so a message without the file would
 * leave the user guessing which one is broken.
 */
public final class SafeTensorsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "safetensors: ";
    private static final String WRITE = "write: ";

    /** A rule broken somewhere below {@link SafeTensors#read}/{@link SafeTensors#write}, which add the file. */
    SafeTensorsException(String message) {
        super(PREFIX + message);
    }

    private SafeTensorsException(String message, SafeTensorsException cause) {
        super(message, cause);
    }

    /** The same problem, with {@code file} named at the front of the message. */
    SafeTensorsException in(Path file) {
        String detail = getMessage().substring(PREFIX.length());
        return new SafeTensorsException(detail.startsWith(WRITE)
                ? PREFIX + "write " + file + ": " + detail.substring(WRITE.length())
                : PREFIX + file + ": " + detail, this);
    }
}
