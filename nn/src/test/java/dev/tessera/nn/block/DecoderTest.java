package dev.tessera.nn.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.LogitScale;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The assembled recipe: training lowers the loss (and overfits), cached generation equals the full forward. */
class DecoderTest {

    static TransformerBlock.Config block(int dim, DType dtype, NormPlacement placement, BlockStyle style, NormKind qkNorm, double cap) {
        var attn = new MultiHeadAttention.Config(dim, 4, 2, dim / 4, false, RotaryEmbedding.Convention.HALF_SPLIT, 500000, 32, qkNorm, 1e-6,
                cap, 0, dtype);
        var mlp = new FeedForward.Config(dim, FeedForward.swigluHidden(dim, 8), FeedForward.Kind.SWIGLU, null, false, dtype);
        return new TransformerBlock.Config(attn, mlp, NormKind.RMS_NORM, 1e-6, false, placement, style, 0);
    }

    /** Mean next-token cross-entropy: −mean log softmax(logits)[target]. */
    static Variable crossEntropy(Variable logits, Tensor targets) {
        Variable logp = logits.logSoftmax(-1); // (B, T, V)
        return logp.gather(-1, targets.unsqueeze(-1)).mean().neg();
    }

    /** A few lines of Adam (Kingma &amp; Ba 2015) on the parameters' data, for training tests. */
    static final class Adam {
        final List<Variable> params;
        final List<Tensor> m = new ArrayList<>();
        final List<Tensor> v = new ArrayList<>();
        final double lr;
        int step;

        Adam(List<Variable> params, double lr) {
            this.params = params;
            this.lr = lr;
            for (Variable p : params) {
                m.add(Tensor.zeros(p.dtype(), p.shape()));
                v.add(Tensor.zeros(p.dtype(), p.shape()));
            }
        }

        void step() {
            step++;
            double c1 = 1 - Math.pow(0.9, step);
            double c2 = 1 - Math.pow(0.999, step);
            try (var s = GradMode.noGrad()) {
                for (int i = 0; i < params.size(); i++) {
                    Tensor g = params.get(i).grad();
                    if (g == null) {
                        continue;
                    }
                    m.get(i).mulInPlace(0.9).addInPlace(g.mul(0.1));
                    v.get(i).mulInPlace(0.999).addInPlace(g.square().mul(0.001));
                    Tensor update = m.get(i).div(c1).div(v.get(i).div(c2).sqrt().add(1e-8)).mul(lr);
                    params.get(i).data().subInPlace(update);
                    params.get(i).zeroGrad();
                }
            }
        }
    }

    static double train(Decoder model, Tensor inputs, Tensor targets, int steps, double lr) {
        Adam adam = new Adam(model.parameters(), lr);
        double loss = Double.NaN;
        for (int i = 0; i < steps; i++) {
            Variable l = crossEntropy(model.forward(inputs), targets);
            loss = l.item();
            l.backward();
            adam.step();
        }
        return loss;
    }

    static Tensor[] batch(int vocab, int b, int t, long seed) {
        Tensor tokens = Tensor.randint(new Generator(seed), 0, vocab, DType.I64, b, t + 1);
        return new Tensor[] {tokens.narrow(1, 0, t).contiguous(), tokens.narrow(1, 1, t).contiguous()};
    }

    /** The kinds a causal decoder takes (the others are bidirectional only). */
    static java.util.stream.Stream<AttentionKind> causalKinds() {
        return java.util.Arrays.stream(AttentionKind.values()).filter(AttentionKind::causal);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("causalKinds")
    void twoLayerDecoderOverfitsAFixedBatch(AttentionKind kind) {
        var b = block(32, DType.F32, NormPlacement.PRE, BlockStyle.SERIAL, null, 0);
        var attention = kind == AttentionKind.ALIBI ? b.attention().withRope(null, 10000).withKind(kind)
                : kind == AttentionKind.SLIDING_WINDOW ? b.attention().withSlidingWindow(4)
                : kind == AttentionKind.TOPK ? b.attention().withTopK(3) : b.attention().withKind(kind);
        var config = Decoder.Config.of(16, 2, new TransformerBlock.Config(attention, b.mlp(), b.norm(), b.normEps(), b.normBias(),
                b.placement(), b.style(), 0));
        Decoder model = new Decoder(config, new Generator(42));
        Tensor[] data = batch(16, 2, 12, 7);
        double first;
        try (var s = GradMode.noGrad()) {
            first = crossEntropy(model.forward(data[0]), data[1]).item();
        }
        double last = train(model, data[0], data[1], 120, 1e-2);
        assertTrue(first > 2, "initial loss " + first);
        assertTrue(last < 0.1, kind + " final loss " + last);
    }

    record Variant(String name, Decoder.Config config) {}

    static List<Variant> variants(DType dtype) {
        var base = block(16, dtype, NormPlacement.PRE, BlockStyle.SERIAL, null, 0);
        return List.of(
                new Variant("post-norm layernorm", new Decoder.Config(11, 2, new TransformerBlock.Config(base.attention(), base.mlp(),
                        NormKind.LAYER_NORM, 1e-5, true, NormPlacement.POST, BlockStyle.SERIAL, 0), false, 16, false, 0, false, false, 1, 0, 0.02)),
                new Variant("sandwich parallel qk-norm softcap", new Decoder.Config(11, 2,
                        block(16, dtype, NormPlacement.SANDWICH, BlockStyle.PARALLEL, NormKind.RMS_NORM, 5), false, 16, false, 0, false, true,
                        1, 0, 0.02)),
                new Variant("tied factorized emb-LN shared scaled capped", new Decoder.Config(11, 2,
                        block(16, dtype, NormPlacement.PRE, BlockStyle.PARALLEL, NormKind.LAYER_NORM, 0), true, 8, true, 0, true, true,
                        LogitScale.inverseSqrt(16) * 4, 30, 0.5)));
    }

    @Test
    void everyVariantTrains() {
        Tensor[] data = batch(11, 2, 8, 3);
        for (Variant v : variants(DType.F32)) {
            Decoder model = new Decoder(v.config(), new Generator(5));
            double first;
            try (var s = GradMode.noGrad()) {
                first = crossEntropy(model.forward(data[0]), data[1]).item();
            }
            double last = train(model, data[0], data[1], 30, 1e-2);
            assertTrue(last < 0.7 * first, v.name() + ": loss " + first + " -> " + last);
        }
    }

    @Test
    void dropoutVariantTrainsAndIsDeterministicInEval() {
        var b = block(16, DType.F32, NormPlacement.PRE, BlockStyle.SERIAL, null, 0);
        var withDrop = new TransformerBlock.Config(b.attention().withDropout(0.1), b.mlp(), b.norm(), b.normEps(), b.normBias(),
                b.placement(), b.style(), 0.1);
        var config = new Decoder.Config(11, 2, withDrop, false, 16, false, 0.1, false, true, 1, 0, 0.02);
        Tensor[] data = batch(11, 2, 8, 4);
        Decoder model = new Decoder(config, new Generator(9));
        double first;
        try (var s = GradMode.noGrad()) {
            first = crossEntropy(model.forward(data[0]), data[1]).item();
        }
        double last = train(model, data[0], data[1], 30, 1e-2);
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
        model.eval();
        Ref.assertClose(model.forward(data[0]).data(), model.forward(data[0]).data(), 0);
    }

    @Test
    void cachedGenerationEqualsFullForward() {
        for (Variant v : variants(DType.F64)) {
            Decoder model = new Decoder(v.config(), new Generator(6));
            Tensor ids = Tensor.randint(new Generator(8), 0, 11, DType.I64, 2, 6);
            Tensor full = model.forward(ids).data();
            KvCache[] caches = model.newCaches(2, 6);
            List<Tensor> steps = new ArrayList<>();
            steps.add(model.forward(ids.narrow(1, 0, 2), AttentionMask.causalOnly(), caches).data());
            for (int p = 2; p < 6; p++) {
                steps.add(model.forward(ids.narrow(1, p, 1), AttentionMask.causalOnly(), caches).data());
            }
            Ref.assertClose(full, Tensor.cat(1, steps.toArray(new Tensor[0])), 1e-11);
        }
    }

    @Test
    void gradients() {
        var b = block(8, DType.F64, NormPlacement.PRE, BlockStyle.SERIAL, NormKind.RMS_NORM, 0);
        Decoder model = new Decoder(new Decoder.Config(5, 1, b, true, 8, false, 0, false, true, 0.5, 3, 0.5), new Generator(2));
        Tensor ids = Tensor.of(new long[] {1, 4, 0}, 1, 3);
        ParamGradCheck.check(() -> model.forward(ids), model.parameters());
    }

    @Test
    void namesAndValidation() {
        Decoder model = new Decoder(Decoder.Config.of(7, 2, block(8, DType.F32, NormPlacement.PRE, BlockStyle.SERIAL, null, 0)),
                new Generator(1));
        var names = model.namedParameters().keySet();
        assertTrue(names.containsAll(List.of("embed_tokens.weight", "layers.0.self_attn.q_proj.weight", "layers.1.mlp.down_proj.weight",
                "layers.1.post_attention_layernorm.weight", "norm.weight", "lm_head.weight")), names.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> new Decoder.Config(7, 2, model.config().block(), false, 9, false, 0,
                false, true, 1, 0, 0.02));
        assertEquals("Decoder.Config: embeddingDim must be in [1, 8], got 9", e.getMessage());
    }
}
