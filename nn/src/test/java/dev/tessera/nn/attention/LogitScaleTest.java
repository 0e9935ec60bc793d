package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.block.BlockStyle;
import dev.tessera.nn.block.Decoder;
import dev.tessera.nn.block.TransformerBlock;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** A13: output logits scaled by α = 1/√d, against the equation, through a whole decoder and by gradcheck. */
class LogitScaleTest {
    @Property(tries = 20)
    void decoderLogitsAreTheUnscaledLogitsTimesAlpha(@ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 6) int t,
            @ForAll long seed) {
        int dim = 16;
        var attn = new MultiHeadAttention.Config(dim, 4, 2, 4, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000, 16, null, 1e-6, 0, 0,
                DType.F64);
        var mlp = new FeedForward.Config(dim, 32, FeedForward.Kind.SWIGLU, null, false, DType.F64);
        var block = new TransformerBlock.Config(attn, mlp, NormKind.RMS_NORM, 1e-6, false, NormPlacement.PRE, BlockStyle.SERIAL, 0);
        double alpha = LogitScale.inverseSqrt(dim);
        assertEquals(0.25, alpha, 1e-15);
        Decoder plain = new Decoder(new Decoder.Config(11, 2, block, false, dim, false, 0, false, true, 1, 0, 0.02), new Generator(seed));
        Decoder scaled = new Decoder(new Decoder.Config(11, 2, block, false, dim, false, 0, false, true, alpha, 0, 0.02),
                new Generator(seed));
        Tensor ids = Tensor.randint(new Generator(seed + 1), 0, 11, DType.I64, b, t);
        double[] p = plain.forward(ids).data().toDoubleArray();
        double[] s = scaled.forward(ids).data().toDoubleArray();
        for (int i = 0; i < p.length; i++) {
            assertEquals(alpha * p[i], s[i], 1e-12 * Math.max(1, Math.abs(p[i])));
        }
        GradCheck.check(v -> LogitScale.apply(v[0], alpha), Tensor.randn(new Generator(seed), DType.F64, b, t, 3));
    }
}
