package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Each kernel's parameter list (parsed from its {@code extern "C" __global__} signature) against the
 * {@link KernelArgs} chain every {@link CudaOps} launch site builds for it: same count, same kind at
 * each position (pointer, 64-bit int, 32-bit int, float, by-value struct of longs). cuLaunchKernel
 * cannot check this, so a mismatch would read garbage on the device.
 */
class KernelSignatureTest {
    enum Kind { PTR, I64, I32, F32, LONGS }

    private static final Pattern KERNEL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern LAUNCH = Pattern.compile("\\b(?:rowLaunch|elementLaunch|launch)\\(\"(\\w+)\",\\s*\"(\\w+)\"");

    /** Kernel name → parameter kinds, from a {@code .cu} source. */
    static Map<String, List<Kind>> kernelSignatures(String source) {
        Map<String, List<Kind>> out = new LinkedHashMap<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) {
            List<Kind> kinds = new ArrayList<>();
            for (String p : m.group(2).split(",")) {
                kinds.add(cudaKind(m.group(1), p.strip()));
            }
            out.put(m.group(1), kinds);
        }
        return out;
    }

    static Kind cudaKind(String kernel, String param) {
        if (param.contains("*")) {
            return Kind.PTR;
        }
        String type = param.replaceAll("\\b(const|__restrict__|unsigned)\\b", " ").strip().replaceAll("\\s+\\w+$", "");
        return switch (type) {
            case "i64", "long long" -> Kind.I64;
            case "int" -> Kind.I32;
            case "float" -> Kind.F32;
            case "Dims" -> Kind.LONGS;
            default -> throw new AssertionError(kernel + ": parameter '" + param + "' has a type the test does not know");
        };
    }

    /** Every launch site in {@code java}: "file/kernel" → the kinds of each site's KernelArgs chain. */
    static Map<String, List<List<Kind>>> launchSites(String java) {
        Map<String, List<List<Kind>>> out = new LinkedHashMap<>();
        Matcher m = LAUNCH.matcher(java);
        while (m.find()) {
            int open = java.indexOf('(', m.start());
            String call = java.substring(open + 1, close(java, open));
            String site = m.group(1) + "/" + m.group(2);
            int at = call.indexOf("new KernelArgs()");
            if (at < 0) {
                throw new AssertionError("launch of " + site + " does not build its KernelArgs inline: " + call.strip());
            }
            out.computeIfAbsent(site, k -> new ArrayList<>()).add(chain(call, at + "new KernelArgs()".length()));
        }
        return out;
    }

    /** The kinds of the {@code .ptr(..).i64(..)...} calls starting at {@code i}. */
    private static List<Kind> chain(String s, int i) {
        List<Kind> kinds = new ArrayList<>();
        while (true) {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= s.length() || s.charAt(i) != '.') {
                return kinds;
            }
            int open = s.indexOf('(', i);
            String method = s.substring(i + 1, open).strip();
            kinds.add(switch (method) {
                case "ptr" -> Kind.PTR;
                case "i64" -> Kind.I64;
                case "i32" -> Kind.I32;
                case "f32" -> Kind.F32;
                case "longs" -> Kind.LONGS;
                default -> throw new AssertionError("KernelArgs has no method " + method);
            });
            i = close(s, open) + 1;
        }
    }

    /** Index of the parenthesis closing the one at {@code open} (string literals skipped). */
    private static int close(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                i = s.indexOf('"', i + 1);
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new AssertionError("unbalanced parentheses after index " + open);
    }

    @Test
    void everyLaunchPacksTheKernelsParameters() throws IOException {
        Map<String, List<Kind>> kernels = new HashMap<>();
        for (String f : KernelSources.FILES) {
            kernelSignatures(KernelSources.resource(f + ".cu")).forEach((k, v) -> kernels.put(f + "/" + k, v));
        }
        Map<String, List<List<Kind>>> sites = launchSites(Files.readString(Path.of("src/main/java/dev/tessera/gpu/CudaOps.java")));
        for (var e : sites.entrySet()) {
            List<Kind> expected = kernels.get(e.getKey());
            assertTrue(expected != null, "CudaOps launches " + e.getKey() + ", which no .cu file defines");
            for (List<Kind> packed : e.getValue()) {
                assertEquals(expected, packed, e.getKey() + ": kernel parameters vs KernelArgs packing");
            }
        }
        TreeSet<String> unused = new TreeSet<>(kernels.keySet());
        unused.removeAll(sites.keySet());
        assertEquals(new TreeSet<String>(), unused, "kernels no CudaOps launch site uses");
    }

    @Test
    void parsersSeeCountsAndKinds() {
        String cu = "extern \"C\" __global__ void k(const float* __restrict__ x, i64 n, Dims d, int op, float s,"
                + " unsigned short* y) {}";
        assertEquals(Map.of("k", List.of(Kind.PTR, Kind.I64, Kind.LONGS, Kind.I32, Kind.F32, Kind.PTR)), kernelSignatures(cu));
        String java = "b.launch(\"f\", \"k\", cfg, new KernelArgs().ptr(x).i64(n(a, b)).longs(Broadcasting.dims(s, t))"
                + ".i32(op.ordinal()).f32(1f).ptr(y));";
        assertEquals(Map.of("f/k", List.of(List.of(Kind.PTR, Kind.I64, Kind.LONGS, Kind.I32, Kind.F32, Kind.PTR))),
                launchSites(java));
        assertThrows(AssertionError.class, () -> launchSites("elementLaunch(\"f\", \"k\", n, args);"));
        assertThrows(AssertionError.class, () -> kernelSignatures("extern \"C\" __global__ void k(double x) {}"));
    }
}
