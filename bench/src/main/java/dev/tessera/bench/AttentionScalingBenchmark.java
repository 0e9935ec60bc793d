package dev.tessera.bench;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 13's linear-time check for every attention family by name: one kernel's forward (no grad)
 * for one head of size 16 at T = 1k, 4k and 16k, built exactly as a model builds it
 * ({@link AttentionKind#create} with the options named after the kind, else its defaults), under a causal mask for kinds
 * that take one and no mask for bidirectional-only kinds, against softmax attention in the same
 * run. The time ratio per 4× T should be ≈ 4 for linear kernels and ≈ 16 for quadratic ones. Pick
 * kinds with {@code ./tessera jmh AttentionScalingBenchmark -p kind=softmax,luna}; a kind's options follow
 * its name ({@code retnet:chunk=64} is the chunkwise form, the default being the quadratic parallel one).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:MaxRAMPercentage=50"})
public class AttentionScalingBenchmark {
    private static final int HEAD = 16;

    @Param({"1024", "4096", "16384"})
    public int t;

    /** A kind's config name, optionally with options: {@code retnet:chunk=64} or {@code long_short:window=16;rank=4}. */
    @Param({"softmax", "linear", "deltanet", "retnet:chunk=64", "gau:chunk=64", "cosformer", "vq", "sliding_window:window=256",
            "neighborhood", "long_short", "dilated", "nystrom", "skyformer", "soft", "luna", "clustered", "conditional", "xcit"})
    public String kind;

    private AttentionKernel kernel;
    private AttentionMask mask;
    private Variable q;
    private Variable k;
    private Variable v;

    @Setup
    public void setup() {
        Generator g = new Generator(1);
        String[] nameAndOptions = kind.split(":", 2);
        AttentionKind named = AttentionKind.named(nameAndOptions[0]);
        Map<String, String> given = new LinkedHashMap<>();
        for (String option : nameAndOptions.length > 1 ? nameAndOptions[1].split(";") : new String[0]) {
            String[] kv = option.split("=", 2);
            given.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        var config = new MultiHeadAttention.Config(HEAD, 1, 1, HEAD, false, null, 10000, t, null, 1e-6, 0, 0, DType.F32, named,
                named.options(given));
        kernel = named.create(config, g);
        mask = named.causal() ? AttentionMask.causalOnly() : AttentionMask.NONE;
        q = Variable.constant(Tensor.randn(g, DType.F32, 1, 1, t, HEAD));
        k = Variable.constant(Tensor.randn(g, DType.F32, 1, 1, t, HEAD));
        v = Variable.constant(Tensor.randn(g, DType.F32, 1, 1, t, HEAD));
    }

    @Benchmark
    public Tensor forward() {
        try (var noGrad = GradMode.noGrad()) {
            return kernel.attend(q, k, v, mask).data();
        }
    }
}
