package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.train.MaskedLm;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bidirectional-only attention kinds (those no causal decoder takes) prove "a short training run
 * lowers the loss" in the BERT encoder (I3): 40 masked-LM steps on sequences whose masked tokens
 * follow from their neighbours (counting runs) must cut the loss on a fixed held-out masking.
 */
class EncoderAttentionKindsTest {
    private static final int VOCAB = 20; // id 19 is [MASK]
    private static final int T = 16;

    static Stream<AttentionKind> bidirectionalOnlyKinds() {
        return Arrays.stream(AttentionKind.values()).filter(k -> !k.causal());
    }

    /** Four single-document rows counting up from different starts, mod 16: a masked token is its left neighbour + 1. */
    static Tensor counting() {
        long[] ids = new long[4 * T];
        for (int r = 0; r < 4; r++) {
            for (int i = 0; i < T; i++) {
                ids[r * T + i] = (3 * r + i) % 16;
            }
        }
        return Tensor.of(ids, 4, T);
    }

    static double loss(Bert model, MaskedLm.Masked m) {
        return Losses.crossEntropy(model.forward(m.inputs(), AttentionMask.NONE), m.labels()).item();
    }

    @ParameterizedTest
    @MethodSource("bidirectionalOnlyKinds")
    void aShortMaskedLmRunLowersTheLoss(AttentionKind kind) {
        double[] loss = heldOutLossBeforeAndAfter(ModelConfig.bert(VOCAB, T, 2, 32, 4, 64).toBuilder().attentionKind(kind).build());
        assertTrue(loss[1] < 0.7 * loss[0], kind.configName() + ": held-out masked-LM loss " + loss[0] + " → " + loss[1]);
    }

    /** A BERT of {@code c} (vocab 20, T 16) trained 40 masked-LM steps on {@link #counting}: its held-out loss before and after. */
    static double[] heldOutLossBeforeAndAfter(ModelConfig c) {
        Bert model = new Bert(c, new Generator(5));
        MaskedLm objective = new MaskedLm(Bert.maskTokenId(c), 16, 0.3, 7); // 16 never occurs, so no token is an EOD
        Tensor ids = counting();
        MaskedLm.Masked heldOut = objective.mask(ids, -1);
        double before;
        try (var noGrad = GradMode.noGrad()) {
            before = loss(model, heldOut);
        }
        AdamW opt = new AdamW(ParamGroup.all(model.parameters()), 1e-2);
        for (int step = 0; step < 40; step++) {
            opt.zeroGrad();
            MaskedLm.Masked m = objective.mask(ids, step);
            Variable l = Losses.crossEntropy(model.forward(m.inputs(), AttentionMask.NONE), m.labels());
            l.backward();
            opt.step();
        }
        double after;
        try (var noGrad = GradMode.noGrad()) {
            after = loss(model, heldOut);
        }
        return new double[] {before, after};
    }
}
