package dev.tessera.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code .cu} kernel sources shipped as resources under {@code dev/tessera/gpu/kernels/}. NVRTC
 * compiles each file alone with no include path, so the shared helpers in {@code common.cuh} are
 * prepended here (a {@code #line} directive keeps compiler messages pointing at the right file).
 */
public final class KernelSources {
    /** Kernel files, without extension. */
    public static final List<String> FILES = List.of("elementwise", "reduce", "softmax", "norm", "rope", "swiglu",
            "cross_entropy", "adamw", "attention", "embedding", "grad_norm", "masked_softmax");
    /** Options passed to NVRTC besides the architecture; part of the cache key. */
    public static final List<String> OPTIONS = List.of("--std=c++17", "-default-device");

    private static final Pattern ENTRY = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(");

    private KernelSources() {}

    /** The raw text of one resource, e.g. {@code elementwise.cu}. */
    public static String resource(String fileName) {
        try (InputStream in = KernelSources.class.getResourceAsStream("kernels/" + fileName)) {
            if (in == null) {
                throw new IllegalStateException("gpu: kernel resource kernels/" + fileName + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The compilable source of kernel file {@code name}: common.cuh, then the file. */
    public static String source(String name) {
        return resource("common.cuh") + "\n#line 1 \"" + name + ".cu\"\n" + resource(name + ".cu");
    }

    /** The {@code extern "C" __global__} functions a source defines. */
    public static List<String> entryPoints(String source) {
        List<String> names = new ArrayList<>();
        Matcher m = ENTRY.matcher(source);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
