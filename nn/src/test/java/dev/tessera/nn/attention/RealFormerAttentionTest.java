package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
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
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RealFormerAttentionTest {

    private static List<RealFormerAttention> stack(int layers) {
        List<RealFormerAttention> s = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            s.add(new RealFormerAttention());
        }
        RealFormerAttention.link(s);
        return s;
    }

    /** Layer l's weights are exp(Σ_{m ≤ l} q_m·k_m/√D) over the allowed keys, in plain double loops. */
    @Property(tries = 30)
    void everyLayerMatchesTheSummedScoresReference(@ForAll @IntRange(min = 1, max = 3) int layers,
            @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 2) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        List<RealFormerAttention> kernels = stack(layers);
        List<double[]> qs = new ArrayList<>();
        List<double[]> ks = new ArrayList<>();
        int[] qShape = {b, h, t, d};
        int[] kShape = {b, h, s, d};
        for (int l = 0; l < layers; l++) {
            Tensor q = AttentionReference.randn(seed + 10L * l, 1, qShape);
            Tensor k = AttentionReference.randn(seed + 10L * l + 1, 1, kShape);
            Tensor v = AttentionReference.randn(seed + 10L * l + 2, 1, b, h, s, d + 1);
            qs.add(q.toDoubleArray());
            ks.add(k.toDoubleArray());
            int upTo = l;
            double[] expected = AttentionReference.attend(qShape, v.toDoubleArray(), v.shape(), mask, (bb, hh, i, j) -> {
                double sum = 0;
                for (int m = 0; m <= upTo; m++) {
                    sum += dot(row(qs.get(m), qShape, bb, hh, i), row(ks.get(m), kShape, bb, hh, j)) / Math.sqrt(d);
                }
                return Math.exp(sum);
            });
            Tensor out = kernels.get(l).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask).data();
            AttentionReference.assertClose(expected, out, 1e-10);
        }
    }

    /** Two layers by central differences: the top layer's output depends on the bottom layer's q and k through the residual. */
    @Test
    void gradientsFlowThroughTheResidualScores() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            GradCheck.check(in -> {
                Variable s0 = RealFormerAttention.scores(in[0], in[1], null);
                Variable out0 = RealFormerAttention.attendScores(s0, in[4], mask);
                Variable out1 = RealFormerAttention.attendScores(RealFormerAttention.scores(in[2], in[3], s0), in[4], mask);
                return out0.add(out1);
            }, AttentionReference.randn(1, 1, 2, 2, 3, 3), AttentionReference.randn(2, 1, 2, 2, 4, 3),
                    AttentionReference.randn(3, 1, 2, 2, 3, 3), AttentionReference.randn(4, 1, 2, 2, 4, 3),
                    AttentionReference.randn(5, 1, 2, 2, 4, 2));
        }
    }

    /** The first layer of a stack (nothing below it) is plain softmax attention. */
    @Test
    void firstLayerIsSoftmaxAttention() {
        RealFormerAttention kernel = stack(1).get(0);
        AttentionReference.assertSoftmaxUnderEveryMask(3, 5, (q, k, v, m) -> kernel.attend(q, k, v, m).data());
    }

    /** A three-layer stack decoded one query at a time against growing keys gives the full causal forward's rows in every layer. */
    @Test
    void cachedDecodingEqualsFull() {
        int layers = 3;
        int t = 6;
        Tensor ids = Tensor.of(new long[] {0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1}, 2, t);
        for (AttentionMask mask : new AttentionMask[] {AttentionMask.causalOnly(), new AttentionMask(true, ids, 0)}) {
            List<RealFormerAttention> kernels = stack(layers);
            Tensor[][] qkv = new Tensor[layers][];
            Tensor[] full = new Tensor[layers];
            for (int l = 0; l < layers; l++) {
                qkv[l] = new Tensor[] {AttentionReference.randn(30 + l, 1, 2, 2, t, 4), AttentionReference.randn(40 + l, 1, 2, 2, t, 4),
                    AttentionReference.randn(50 + l, 1, 2, 2, t, 3)};
                full[l] = kernels.get(l).attend(Variable.constant(qkv[l][0]), Variable.constant(qkv[l][1]), Variable.constant(qkv[l][2]),
                        mask).data();
            }
            for (int p = 0; p < t; p++) {
                AttentionMask cached = mask.documentIds() == null ? mask.forCachedKeys(1, p + 1)
                        : new AttentionMask(true, ids.narrow(1, 0, p + 1).contiguous(), p);
                for (int l = 0; l < layers; l++) {
                    Variable q = Variable.constant(qkv[l][0].narrow(2, p, 1).contiguous());
                    Variable k = Variable.constant(qkv[l][1].narrow(2, 0, p + 1).contiguous());
                    Variable v = Variable.constant(qkv[l][2].narrow(2, 0, p + 1).contiguous());
                    Tensor step = kernels.get(l).attend(q, k, v, cached).data();
                    AttentionReference.assertClose(full[l].narrow(2, p, 1).contiguous(), step, 1e-12);
                }
            }
        }
    }

    /** link(Module) finds the kernels in registration order; misuse is a one-line error, never silent plain attention. */
    @Test
    void linkingAndMisuse() {
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        var unlinked = assertThrows(IllegalStateException.class, () -> new RealFormerAttention().attend(q, q, q, AttentionMask.NONE));
        assertEquals("RealFormerAttention: not linked into a layer stack (call RealFormerAttention.link(model) once built)",
                unlinked.getMessage());

        RealFormerAttention bottom = new RealFormerAttention();
        RealFormerAttention top = new RealFormerAttention();
        Module model = new Module() {
            {
                child("a", bottom);
                child("b", top);
            }
        };
        assertEquals(2, RealFormerAttention.link(model));
        var order = assertThrows(IllegalStateException.class, () -> top.attend(q, q, q, AttentionMask.NONE));
        assertEquals("RealFormerAttention: the layer below left no scores (the stack must run bottom-up in one forward)", order.getMessage());
        bottom.attend(q, q, q, AttentionMask.NONE);
        top.attend(q, q, q, AttentionMask.NONE);
        assertThrows(IllegalStateException.class, () -> top.attend(q, q, q, AttentionMask.NONE), "the hand-off is taken once");

        bottom.attend(q, q, q, AttentionMask.NONE);
        Variable longer = Variable.constant(AttentionReference.randn(2, 1, 1, 2, 5, 4));
        var shape = assertThrows(IllegalArgumentException.class, () -> top.attend(q, longer, longer, AttentionMask.NONE));
        assertEquals("RealFormerAttention: scores from the layer below are [1, 2, 3, 3], this layer's are [1, 2, 3, 5]", shape.getMessage());

        var shared = assertThrows(IllegalArgumentException.class, () -> RealFormerAttention.link(List.of(bottom, top, bottom)));
        assertEquals("RealFormerAttention: one kernel sits at two places in the stack (shared layers are not supported)", shared.getMessage());
    }

    /** nn's Decoder links its layers too: cached decoding equals the full forward; ALBERT-style shared layers are refused when built. */
    @Test
    void decoderLinksItsLayers() {
        var attn = new MultiHeadAttention.Config(16, 2, 2, 8, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000, 16, null, 1e-6, 0, 0,
                DType.F64, AttentionKind.REALFORMER);
        var mlp = new FeedForward.Config(16, 24, FeedForward.Kind.SWIGLU, null, false, DType.F64);
        var block = new TransformerBlock.Config(attn, mlp, NormKind.RMS_NORM, 1e-6, false, NormPlacement.PRE, BlockStyle.SERIAL, 0);
        Decoder model = new Decoder(Decoder.Config.of(11, 3, block), new Generator(3));
        Tensor ids = Tensor.randint(new Generator(4), 0, 11, DType.I64, 2, 7);
        try (var scope = GradMode.noGrad()) {
            Tensor full = model.forward(ids).data(); // (B, T, V)
            KvCache[] caches = model.newCaches(2, 16);
            for (int p = 0; p < 7; p++) {
                Tensor step = model.forward(ids.narrow(1, p, 1).contiguous(), AttentionMask.causalOnly(), caches).data();
                AttentionReference.assertClose(full.narrow(1, p, 1).contiguous(), step, 1e-10);
            }
        }
        var shared = new Decoder.Config(11, 3, block, false, 16, false, 0, true, true, 1, 0, 0.02);
        var e = assertThrows(IllegalArgumentException.class, () -> new Decoder(shared, new Generator(5)));
        assertEquals("RealFormerAttention: one kernel sits at two places in the stack (shared layers are not supported)", e.getMessage());
    }
}
