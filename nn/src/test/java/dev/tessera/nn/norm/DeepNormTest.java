package dev.tessera.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionReference;
import dev.tessera.nn.norm.DeepNorm.Arch;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeepNormTest {

    @Test
    void constantsOfTable1() {
        // decoder-only with M = 256 layers: α = 512^(1/4), β = 2048^(−1/4)
        assertEquals(Math.pow(512, 0.25), DeepNorm.alpha(256, Arch.DECODER_ONLY), 1e-12);
        assertEquals(Math.pow(2048, -0.25), DeepNorm.beta(256, Arch.DECODER_ONLY), 1e-12);
        assertEquals(Math.pow(2 * 18, 0.25), DeepNorm.alpha(18, Arch.ENCODER_ONLY), 1e-12);
        assertEquals(Math.pow(8 * 18, -0.25), DeepNorm.beta(18, Arch.ENCODER_ONLY), 1e-12);
        // the paper's 200-layer (100L-100L) encoder-decoder
        assertEquals(0.81 * Math.pow(Math.pow(100, 4) * 100, 1.0 / 16), DeepNorm.alpha(100, 100, Arch.ENC_DEC_ENCODER), 1e-12);
        assertEquals(0.87 * Math.pow(Math.pow(100, 4) * 100, -1.0 / 16), DeepNorm.beta(100, 100, Arch.ENC_DEC_ENCODER), 1e-12);
        assertEquals(Math.pow(300, 0.25), DeepNorm.alpha(100, 100, Arch.ENC_DEC_DECODER), 1e-12);
        assertEquals(Math.pow(1200, -0.25), DeepNorm.beta(100, 100, Arch.ENC_DEC_DECODER), 1e-12);
        assertEquals(DeepNorm.alpha(7, Arch.DECODER_ONLY), DeepNorm.alpha(0, 7, Arch.DECODER_ONLY), 0);
        assertThrows(IllegalArgumentException.class, () -> DeepNorm.alpha(6, Arch.ENC_DEC_DECODER));
        assertThrows(IllegalArgumentException.class, () -> DeepNorm.beta(0, Arch.DECODER_ONLY));
    }

    /** A norm written here (the project's LayerNorm lives elsewhere): (x − mean)/√(var + ε) over the last dim. */
    private static final Layer NORM = x -> {
        Variable centred = x.sub(x.mean(true, -1));
        return centred.mul(centred.square().mean(true, -1).add(1e-5).rsqrt());
    };

    @Test
    void residualIsNormOfAlphaXPlusFx() {
        Tensor x = AttentionReference.randn(1, 1, 2, 3, 5);
        Tensor fx = AttentionReference.randn(2, 1, 2, 3, 5);
        double alpha = DeepNorm.alpha(12, Arch.DECODER_ONLY);
        Tensor got = DeepNorm.residual(Variable.constant(x), Variable.constant(fx), alpha, NORM).data();
        double[] xa = x.toDoubleArray(), fa = fx.toDoubleArray();
        double[] expected = new double[xa.length];
        for (int r = 0; r < 6; r++) {
            double mean = 0, var = 0;
            for (int c = 0; c < 5; c++) {
                mean += (alpha * xa[r * 5 + c] + fa[r * 5 + c]) / 5;
            }
            for (int c = 0; c < 5; c++) {
                double u = alpha * xa[r * 5 + c] + fa[r * 5 + c] - mean;
                var += u * u / 5;
            }
            for (int c = 0; c < 5; c++) {
                expected[r * 5 + c] = (alpha * xa[r * 5 + c] + fa[r * 5 + c] - mean) / Math.sqrt(var + 1e-5);
            }
        }
        AttentionReference.assertClose(expected, got, 1e-12);
        GradCheck.check(in -> DeepNorm.residual(in[0], in[1], alpha, NORM), x, fx);
    }

    static final class Attn extends Module {
        Attn(Generator g) {
            child("q_proj", new Linear(64, 64, false, g));
            child("k_proj", new Linear(64, 64, false, g));
            child("v_proj", new Linear(64, 64, false, g));
            child("out_proj", new Linear(64, 64, true, g));
            child("fc1", new Linear(64, 256, true, g));
            child("fc2", new Linear(256, 64, true, g));
        }
    }

    @Test
    void initialiseScalesByBetaByName() {
        Generator g = new Generator(3);
        Attn block = new Attn(g);
        double beta = DeepNorm.beta(64, Arch.DECODER_ONLY);
        List<String> touched = DeepNorm.initialise(block, beta, g);
        assertEquals(List.of("q_proj.weight", "k_proj.weight", "v_proj.weight", "out_proj.weight", "fc1.weight", "fc2.weight"), touched);
        // xavier normal: std = gain·√(2/(fanIn + fanOut))
        assertEquals(Math.sqrt(2.0 / 128), std(block.namedParameters().get("q_proj.weight")), 0.1 * Math.sqrt(2.0 / 128));
        assertEquals(beta * Math.sqrt(2.0 / 128), std(block.namedParameters().get("v_proj.weight")), 0.1 * beta * Math.sqrt(2.0 / 128));
        assertEquals(beta * Math.sqrt(2.0 / 320), std(block.namedParameters().get("fc2.weight")), 0.1 * beta * Math.sqrt(2.0 / 320));
        Linear lin = new Linear(100, 50, false, g);
        DeepNorm.scaleInit(g, beta, lin);
        assertEquals(beta * Math.sqrt(2.0 / 150), std(lin.weight()), 0.1 * beta * Math.sqrt(2.0 / 150));
    }

    static double std(Variable p) {
        double[] a = p.data().toDoubleArray();
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s / a.length);
    }
}
