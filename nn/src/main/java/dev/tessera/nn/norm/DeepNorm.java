package dev.tessera.nn.norm;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.tensor.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * DeepNorm (D1): Wang et al., "DeepNet: Scaling Transformers to 1,000 Layers", 2022. A post-norm
 * residual that up-weights the skip branch, together with a down-scaled initialisation:
 *
 * <pre>
 *   x_{l+1} = LN(α · x_l + G_l(x_l))
 *   init: xavier_normal(gain = β) for the FFN, v_proj and out_proj; gain 1 for q_proj and k_proj
 * </pre>
 *
 * with the constants of the paper's Table 1 (N encoder layers, M decoder layers):
 *
 * <pre>
 *   encoder-only       α = (2N)^(1/4)                β = (8N)^(−1/4)
 *   decoder-only       α = (2M)^(1/4)                β = (8M)^(−1/4)
 *   encoder-decoder    encoder α = 0.81 (N⁴M)^(1/16)  β = 0.87 (N⁴M)^(−1/16)
 *                      decoder α = (3M)^(1/4)        β = (12M)^(−1/4)
 * </pre>
 */
public final class DeepNorm {
    private DeepNorm() {}

    /** Which stack the constants are for. */
    public enum Arch {
        ENCODER_ONLY,
        DECODER_ONLY,
        /** The encoder of an encoder-decoder model (needs both layer counts). */
        ENC_DEC_ENCODER,
        /** The decoder of an encoder-decoder model (needs both layer counts). */
        ENC_DEC_DECODER
    }

    /** α for an encoder-only or decoder-only stack of {@code layers} layers. */
    public static double alpha(int layers, Arch arch) {
        return switch (singleStack(layers, arch)) {
            case ENCODER_ONLY, DECODER_ONLY -> Math.pow(2.0 * layers, 0.25);
            default -> throw new AssertionError();
        };
    }

    /** β for an encoder-only or decoder-only stack of {@code layers} layers. */
    public static double beta(int layers, Arch arch) {
        return switch (singleStack(layers, arch)) {
            case ENCODER_ONLY, DECODER_ONLY -> Math.pow(8.0 * layers, -0.25);
            default -> throw new AssertionError();
        };
    }

    /** α for any arch; the encoder-decoder constants use N encoder and M decoder layers. */
    public static double alpha(int encoderLayers, int decoderLayers, Arch arch) {
        checkLayers(encoderLayers, decoderLayers, arch);
        double n = encoderLayers;
        double m = decoderLayers;
        return switch (arch) {
            case ENCODER_ONLY -> Math.pow(2 * n, 0.25);
            case DECODER_ONLY -> Math.pow(2 * m, 0.25);
            case ENC_DEC_ENCODER -> 0.81 * Math.pow(n * n * n * n * m, 1.0 / 16);
            case ENC_DEC_DECODER -> Math.pow(3 * m, 0.25);
        };
    }

    /** β for any arch; the encoder-decoder constants use N encoder and M decoder layers. */
    public static double beta(int encoderLayers, int decoderLayers, Arch arch) {
        checkLayers(encoderLayers, decoderLayers, arch);
        double n = encoderLayers;
        double m = decoderLayers;
        return switch (arch) {
            case ENCODER_ONLY -> Math.pow(8 * n, -0.25);
            case DECODER_ONLY -> Math.pow(8 * m, -0.25);
            case ENC_DEC_ENCODER -> 0.87 * Math.pow(n * n * n * n * m, -1.0 / 16);
            case ENC_DEC_DECODER -> Math.pow(12 * m, -0.25);
        };
    }

    /** x_{l+1} = norm(α·x + G(x)), with fx = G(x) already computed (post-norm). */
    public static Variable residual(Variable x, Variable fx, double alpha, Layer norm) {
        return norm.forward(x.mul(alpha).add(fx));
    }

    /** Re-initialises each projection's weight with xavier_normal(gain = β) (FFN, v_proj, out_proj). */
    public static void scaleInit(Generator g, double beta, Linear... projections) {
        for (Linear p : projections) {
            p.weight().data().copyFromInPlace(Init.xavierNormal(g, beta, p.outFeatures(), p.inFeatures()));
        }
    }

    /**
     * Applies the paper's initialisation to a module tree by Hugging Face parameter names: 2-d
     * weights of {@code q_proj}/{@code k_proj} get gain 1; those of {@code v_proj},
     * {@code out_proj}/{@code o_proj}/{@code c_proj}, {@code fc1}/{@code fc2}, {@code c_fc},
     * {@code gate_proj}/{@code up_proj}/{@code down_proj} get gain β. Returns the names it touched.
     */
    public static List<String> initialise(Module model, double beta, Generator g) {
        List<String> touched = new ArrayList<>();
        for (Map.Entry<String, Variable> e : model.namedParameters().entrySet()) {
            String name = e.getKey();
            Variable p = e.getValue();
            if (p.rank() != 2 || !name.endsWith(".weight")) {
                continue;
            }
            String owner = name.substring(0, name.length() - ".weight".length());
            owner = owner.substring(owner.lastIndexOf('.') + 1);
            double gain = switch (owner) {
                case "q_proj", "k_proj" -> 1.0;
                case "v_proj", "out_proj", "o_proj", "c_proj", "fc1", "fc2", "c_fc", "gate_proj", "up_proj", "down_proj" -> beta;
                default -> Double.NaN;
            };
            if (!Double.isNaN(gain)) {
                p.data().copyFromInPlace(Init.xavierNormal(g, gain, p.size(0), p.size(1)));
                touched.add(name);
            }
        }
        return touched;
    }

    private static Arch singleStack(int layers, Arch arch) {
        if (arch == Arch.ENC_DEC_ENCODER || arch == Arch.ENC_DEC_DECODER) {
            throw new IllegalArgumentException("DeepNorm: " + arch + " needs both layer counts; use alpha/beta(encoderLayers, decoderLayers, arch)");
        }
        if (layers <= 0) {
            throw new IllegalArgumentException("DeepNorm: layers must be positive, got " + layers);
        }
        return arch;
    }

    private static void checkLayers(int n, int m, Arch arch) {
        boolean needN = arch != Arch.DECODER_ONLY;
        boolean needM = arch != Arch.ENCODER_ONLY;
        if ((needN && n <= 0) || (needM && m <= 0)) {
            throw new IllegalArgumentException("DeepNorm: " + arch + " needs positive layer counts, got encoder " + n + ", decoder " + m);
        }
    }
}
