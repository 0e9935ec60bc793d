package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * E7: FNet's Fourier mixing (Lee-Thorp, Ainslie, Eckstein, Ontañón 2022, "FNet: Mixing Tokens
 * with Fourier Transforms", NAACL): the self-attention sublayer replaced by the real part of a 2D
 * discrete Fourier transform, over the hidden dimension and then over the sequence. No parameters;
 * it mixes every position with every other, so it is bidirectional only (an encoder's mixer; the
 * causal decoders refuse it, {@link MixerKind#causal()}).
 *
 * <pre>
 * Dimensions: B batch, T time, C channels.
 *
 *   y = Re(F_seq(F_hidden(x)))                                               (B, T, C)
 *   y[t, c] = Σ_s Σ_d x[s, d] · cos(2π(t·s/T + c·d/C))
 *           = (C_T x C_C − S_T x S_C)[t, c],   C_N[j, k] = cos(2πjk/N), S_N[j, k] = sin(2πjk/N)
 * </pre>
 *
 * The DFTs are computed as the matrix products on the right (F_N = C_N − i·S_N), as the paper
 * does on TPUs for sequences up to 4096 (§3.2: the DFT matrix multiplication beats the FFT there);
 * they cost O(T²C + TC²) and their gradient is the transposed products. Packed documents and
 * BERT's padding ({@link Segments}: contiguous runs of equal document id) are each transformed
 * alone, the sequence DFT taken over the run's own length, so no document reads another and real
 * tokens never mix with padding. This departs from the reference (transformers'
 * {@code FNetBasicFourierTransform}, {@code fftn(x, dim=(1, 2)).real}), which mixes padding into
 * every position; the two agree on rows without document ids (the golden test).
 */
public final class FNet extends Module implements TokenMixer {
    private static final String WHO = "mixer fnet";
    private final int dim;

    /** The Fourier mixing of width {@code dim} (no parameters). */
    public FNet(int dim) {
        if (dim <= 0) {
            throw new IllegalArgumentException(WHO + ": width must be positive, got " + dim);
        }
        this.dim = dim;
    }

    /**
     * x (B, T, C) → Re(FFT₂(x)) (B, T, C), each document run of {@code mask} alone; {@code mask} null or
     * non-causal, {@code state} null (one-line errors: FNet mixes both ways and cannot decode).
     */
    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(WHO, false, x, dim, mask, state);
        DType dt = x.dtype();
        Variable cosT = OnDevice.constant(s.matrix(dt, (b, t, u) -> cos(s.local(b, t), s.local(b, u), s.length(b, t))), x); // (1|B, T, T)
        Variable sinT = OnDevice.constant(s.matrix(dt, (b, t, u) -> sin(s.local(b, t), s.local(b, u), s.length(b, t))), x); // (1|B, T, T)
        Variable cosC = OnDevice.constant(hidden(dt, false), x); // (C, C)
        Variable sinC = OnDevice.constant(hidden(dt, true), x); // (C, C)
        return cosT.matmul(x).matmul(cosC).sub(sinT.matmul(x).matmul(sinC)); // (B, T, C)
    }

    /** C_C or S_C (C, C). */
    private Tensor hidden(DType dt, boolean sine) {
        double[] m = new double[dim * dim];
        for (int j = 0; j < dim; j++) {
            for (int k = 0; k < dim; k++) {
                m[j * dim + k] = sine ? sin(j, k, dim) : cos(j, k, dim);
            }
        }
        return Tensor.of(m, dim, dim).to(dt);
    }

    /** cos(2πjk/n), with jk reduced mod n first so large products keep their precision. */
    static double cos(int j, int k, int n) {
        return Math.cos(2 * Math.PI * ((long) j * k % n) / n);
    }

    static double sin(int j, int k, int n) {
        return Math.sin(2 * Math.PI * ((long) j * k % n) / n);
    }

    @Override
    public String toString() {
        return "FNet(C=" + dim + ")";
    }
}
