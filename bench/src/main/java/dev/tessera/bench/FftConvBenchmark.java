package dev.tessera.bench;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.FftConv;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
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
 * Issue 17's figure for the long-convolution mixers: one causal depthwise convolution
 * x (1, 8, L) with a full-length kernel (8, L), at L = 1k, 4k and 16k, by
 * <ul>
 *   <li>{@code fft}: {@link FftConv#fft}, the fused op (two real lines per complex FFT, kernel
 *       spectra once per channel);</li>
 *   <li>{@code direct}: {@link FftConv#direct}, the O(L²) sum;</li>
 *   <li>{@code composite}: the same FFT convolution built from the older tensor ops (zero-pad,
 *       {@code rfft}, complex product on the (real, imag) dim, {@code irfft}, narrow), which is
 *       what a mixer had before the fused op;</li>
 *   <li>{@code fft_backward}: {@link FftConv#fftBackward}, both gradients.</li>
 * </ul>
 * FFT time should grow ≈ 4.3× per 4× L, direct ≈ 16×. Run with
 * {@code ./tessera jmh FftConvBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:MaxRAMPercentage=50"})
public class FftConvBenchmark {
    private static final int CHANNELS = 8;

    @Param({"1024", "4096", "16384"})
    public int length;

    @Param({"fft", "direct", "composite", "fft_backward"})
    public String path;

    private Tensor x;
    private Tensor kernel;
    private Tensor grad;

    @Setup
    public void setup() {
        Generator g = new Generator(1);
        x = Tensor.randn(g, DType.F32, 1, CHANNELS, length);
        kernel = Tensor.randn(g, DType.F32, CHANNELS, length).mul(1.0 / length);
        grad = Tensor.randn(g, DType.F32, 1, CHANNELS, length);
    }

    @Benchmark
    public Object convolve() {
        return switch (path) {
            case "fft" -> FftConv.fft(x, kernel);
            case "direct" -> FftConv.direct(x, kernel);
            case "composite" -> composite(x, kernel);
            case "fft_backward" -> FftConv.fftBackward(grad, x, kernel);
            default -> throw new IllegalArgumentException("FftConvBenchmark: unknown path '" + path + "' (fft, direct, composite, fft_backward)");
        };
    }

    /** irfft(rfft(pad x) · rfft(pad k))[0, L) from the general tensor ops. */
    static Tensor composite(Tensor x, Tensor kernel) {
        int l = x.size(2);
        int n = 2 * l;
        Tensor xs = Tensor.cat(2, x, Tensor.zeros(x.dtype(), x.size(0), x.size(1), n - l)).rfft(2); // (1, C, N/2+1, 2)
        Tensor ks = Tensor.cat(1, kernel, Tensor.zeros(kernel.dtype(), kernel.size(0), n - l)).rfft(1).unsqueeze(0);
        Tensor xr = xs.narrow(3, 0, 1);
        Tensor xi = xs.narrow(3, 1, 1);
        Tensor kr = ks.narrow(3, 0, 1);
        Tensor ki = ks.narrow(3, 1, 1);
        Tensor product = Tensor.cat(3, xr.mul(kr).sub(xi.mul(ki)), xr.mul(ki).add(xi.mul(kr)));
        return product.irfft(n, 2).narrow(2, 0, l);
    }
}
