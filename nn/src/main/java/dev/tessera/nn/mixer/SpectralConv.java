package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E28: the Fourier Neural Operator's spectral convolution layer (Li, Kovachki, Azizzadenesheli,
 * Liu, Bhattacharya, Stuart, Anandkumar 2021, "Fourier Neural Operator for Parametric Partial
 * Differential Equations", ICLR) as a token mixer: a learned complex channel mixing on the lowest k
 * frequencies of the sequence, the rest dropped, plus a pointwise linear path. Bidirectional only
 * (every position reads every other); the causal decoders refuse it.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, k modes (option modes), F = T/2+1 frequencies.
 *
 *   v̂ = rFFT_T(v)                                      (B, F, C) complex
 *   ŵ_f = R_f v̂_f  for f &lt; min(k, F),  0 above         R (C_in, C_out, k) complex, {@code weights1} (…, 2): real, imaginary
 *   y = rFFT⁻¹_T(ŵ) + W v + b                          W, b: {@code w} (the paper's pointwise 1×1 convolution)
 * </pre>
 *
 * The transform runs over the sequence's own length (no padding): the operator keeps the same k
 * lowest modes at every resolution, the paper's discretisation invariance. The paper's layer
 * applies σ to the sum; here the block's feed-forward follows instead (a token mixer is linear in
 * the residual stream like attention). Initialised as the paper's code: R entries
 * (1 / (C·C))·U(0, 1) in both parts. Packed documents and padding runs ({@link Segments}) are each
 * transformed alone, over their own length.
 */
public final class SpectralConv extends Module implements TokenMixer {

    /** @param modes k, the lowest frequencies kept */
    public record Options(int modes) {
        public Options {
            if (modes < 1) {
                throw new IllegalArgumentException("mixer fno: need modes >= 1, got " + modes);
            }
        }
    }

    private final String who = "mixer fno";
    private final int dim;
    private final int modes;
    private final Variable weights;
    private final Linear w;

    /** A spectral convolution over width {@code dim}, initialised from {@code g}. */
    public SpectralConv(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.modes = o.modes();
        weights = parameter("weights1", Tensor.rand(g, dtype, dim, dim, modes, 2).mul(1.0 / (dim * dim)));
        w = child("w", new Linear(dim, dim, true, Tensor.randn(g, dtype, dim, dim).mul(1 / Math.sqrt(dim))));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, false, x, dim, mask, state);
        return s.eachRun(x, this::spectral).add(w.forward(x)); // (B, T, C), each packed document / padding run transformed alone
    }

    /** rFFT⁻¹(R · rFFT(v) on the lowest modes), v (B, L, C). */
    private Variable spectral(Variable v) {
        int b = v.size(0);
        int l = v.size(1);
        int bins = l / 2 + 1;
        int m = Math.min(modes, bins);
        Variable low = v.rfft(1).narrow(1, 0, m); // (B, m, C, 2)
        Variable re = low.select(3, 0).unsqueeze(2); // (B, m, 1, C)
        Variable im = low.select(3, 1).unsqueeze(2);
        Variable rRe = weights.select(3, 0).narrow(2, 0, m).permute(2, 0, 1); // (m, C_in, C_out)
        Variable rIm = weights.select(3, 1).narrow(2, 0, m).permute(2, 0, 1);
        Variable outRe = re.matmul(rRe).sub(im.matmul(rIm)).reshape(b, m, dim); // (B, m, C)
        Variable outIm = re.matmul(rIm).add(im.matmul(rRe)).reshape(b, m, dim);
        Variable spectrum = Variable.stack(3, outRe, outIm); // (B, m, C, 2)
        if (m < bins) {
            spectrum = Variable.cat(1, spectrum, OnDevice.zeros(v, b, bins - m, dim, 2));
        }
        return spectrum.irfft(l, 1); // (B, L, C)
    }

    @Override
    public String toString() {
        return "SpectralConv(C=" + dim + ", modes=" + modes + ")";
    }
}
