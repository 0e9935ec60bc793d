package dev.tessera.models.cli;

import dev.tessera.gpu.CudaLibraries;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Simd;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera info}: what this JVM and machine give the kernels. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Print the JDK, Vector API species, thread count and whether CUDA was found.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("jdk        %s (%s)%n", Runtime.version(), System.getProperty("java.vm.name"));
        out.printf("os/arch    %s %s, %d cores%n", System.getProperty("os.name"), System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors());
        out.printf("vector api %s%s: %d float lanes (%s), %d double lanes%n", Simd.F32.vectorShape(),
                Simd.ENABLED ? "" : " (disabled by -Dtessera.simd=off: scalar kernels)", Simd.F32.length(), Simd.F32,
                Simd.F64.length());
        out.printf("threads    %d (set with -Dtessera.threads=N)%n", Parallel.threads());
        out.printf("cuda       %s%n", CudaLibraries.describe());
        out.printf("devices    cpu, sim (the simulated device: host memory behind the backend seam), cuda %s (--device)%n",
                dev.tessera.gpu.GpuSupport.available() ? "available" : "unavailable");
        out.printf("max heap   %d MiB%n", Runtime.getRuntime().maxMemory() >> 20);
        out.flush();
        return 0;
    }
}
