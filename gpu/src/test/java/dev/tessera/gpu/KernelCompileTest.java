package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * Compiles every kernel file, device-only, to PTX for sm_80 and sm_90 with clang 19's CUDA front
 * end, so kernel errors surface without a GPU or NVRTC. {@code nvrtc-shim.cuh} (test resources)
 * declares what NVRTC predefines. The PTX must define every {@code extern "C"} kernel under its own
 * name (C linkage kept). At -O0: the check is for errors, and optimising the unrolled attention
 * kernels takes seconds. Without clang-19, see {@link Clang}.
 */
class KernelCompileTest {
    static final List<String> ARCHS = List.of("sm_80", "sm_90");

    @TempDir
    Path tmp;
    private Path shim;

    @Test
    void missingClangSkipsLocallyAndFailsOnCi() {
        assertEquals("clang-19 missing: apt-get install clang-19", Clang.missing(null));
        assertEquals("clang-19 missing: apt-get install clang-19", Clang.missing("false"));
        var e = assertThrows(AssertionFailedError.class, () -> Clang.missing("true"));
        assertEquals("clang-19 missing: apt-get install clang-19", e.getMessage());
    }

    @TestFactory
    Stream<DynamicTest> everyKernelFileCompilesToPtx() {
        Clang.require("kernel compile test");
        shim = Clang.resource("nvrtc-shim.cuh", tmp);
        return KernelSources.FILES.stream().map(f -> DynamicTest.dynamicTest(f + ".cu", () -> compileAll(f)));
    }

    /** Both architectures at once (two processes), each checked for errors and for every entry point. */
    private void compileAll(String file) throws Exception {
        String source = KernelSources.source(file);
        Path src = tmp.resolve(file + ".cu");
        Files.writeString(src, source);
        List<Process> procs = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (String arch : ARCHS) {
            Path out = tmp.resolve(file + "." + arch + ".ptx");
            outs.add(out);
            procs.add(new ProcessBuilder(Clang.CLANG, "-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=" + arch, "-nocudainc",
                    "-nocudalib", "-Wno-unknown-cuda-version", "-std=c++17", "-O0", "-include", shim.toString(), "-S", "-o",
                    out.toString(), src.toString()).redirectErrorStream(true).start());
        }
        for (int i = 0; i < procs.size(); i++) {
            Process p = procs.get(i);
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), file + ".cu: clang timed out");
            if (p.exitValue() != 0) {
                fail(file + ".cu (" + ARCHS.get(i) + "): " + Clang.firstError(log));
            }
            String ptx = Files.readString(outs.get(i));
            for (String entry : KernelSources.entryPoints(source)) {
                assertTrue(ptx.contains(".entry " + entry + "("), file + ".cu (" + ARCHS.get(i) + "): no PTX entry " + entry);
            }
            assertEquals(KernelSources.entryPoints(source).size(), ptx.split("\\.entry ", -1).length - 1,
                    file + ".cu: PTX entries vs extern \"C\" kernels");
        }
    }
}
