package dev.tessera.tensor;

/**
 * A safetensors file (or a request to write one) breaks a rule of the format. It is an
 * {@link IllegalArgumentException} because the file is the argument at fault; the message is one
 * line starting with {@code safetensors: } that names the rule and, where there is one, the tensor.
 */
public final class SafeTensorsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    SafeTensorsException(String message) {
        super("safetensors: " + message);
    }
}
