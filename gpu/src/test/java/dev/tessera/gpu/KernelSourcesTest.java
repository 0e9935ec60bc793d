package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.UnaryOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What can be checked about the .cu sources without NVRTC: presence, entry points, op codes, launch sites. */
class KernelSourcesTest {
    @Test
    void everyKernelFileLoadsWithTheCommonHelpers() {
        for (String f : KernelSources.FILES) {
            String src = KernelSources.source(f);
            assertTrue(src.startsWith(KernelSources.resource("common.cuh")), f);
            assertTrue(src.contains("#line 1 \"" + f + ".cu\""), f);
            assertTrue(!KernelSources.entryPoints(src).isEmpty(), f + " defines no extern \"C\" kernels");
            assertEquals(count(src, '{'), count(src, '}'), f + ": unbalanced braces");
            assertEquals(count(src, '('), count(src, ')'), f + ": unbalanced parentheses");
        }
    }

    private static long count(String s, char c) {
        return s.chars().filter(x -> x == c).count();
    }

    @Test
    void opCodesMatchTheEnums() {
        String ew = KernelSources.resource("elementwise.cu");
        for (UnaryOp op : UnaryOp.values()) {
            assertTrue(ew.matches("(?s).*case " + op.ordinal() + ": return [^\\n]*// " + op.name() + "\\n.*"), "unary " + op);
        }
        for (BinaryOp op : BinaryOp.values()) {
            assertTrue(ew.matches("(?s).*case " + op.ordinal() + ": return [^\\n]*// " + op.name() + "\\n.*"), "binary " + op);
        }
        String red = KernelSources.resource("reduce.cu");
        for (ReduceOp op : ReduceOp.values()) {
            assertTrue(red.contains("// " + op.name()), "reduce " + op);
        }
        assertEquals(4, ReduceOp.values().length, "reduce.cu handles SUM, PROD, MAX, MIN");
    }

    @Test
    void maxDimsAgree() {
        assertTrue(KernelSources.resource("common.cuh").contains("#define TS_MAX_DIMS " + Broadcasting.MAX_DIMS));
    }

    /** Every (file, kernel) named in CudaOps exists in that file. */
    @Test
    void everyLaunchSiteNamesAnExistingKernel() throws IOException {
        String ops = Files.readString(Path.of("src/main/java/dev/tessera/gpu/CudaOps.java"));
        Matcher m = Pattern.compile("Launch\\(\"(\\w+)\", \"(\\w+)\"").matcher(ops);
        List<String> seen = new ArrayList<>();
        while (m.find()) {
            String file = m.group(1), fn = m.group(2);
            assertTrue(KernelSources.FILES.contains(file), "unknown kernel file " + file);
            assertTrue(KernelSources.entryPoints(KernelSources.source(file)).contains(fn), file + ".cu has no kernel " + fn);
            seen.add(fn);
        }
        assertTrue(seen.size() >= 20, "found only " + seen);
    }
}
