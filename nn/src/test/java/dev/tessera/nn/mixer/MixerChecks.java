package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/** Test helpers shared by the sequence-length mixers' tests (FNet, gMLP, MLP-Mixer, ...). */
final class MixerChecks {
    private MixerChecks() {}

    /** Every parameter of {@code m} redrawn N(0, 0.3²) (seeded), so a reference sees each of them, not just their initialisation. */
    static <M extends Module> M randomised(M m, long seed) {
        Generator g = new Generator(seed);
        m.parameters().forEach(p -> p.data().copyFromInPlace(Tensor.randn(g, p.dtype(), p.shape()).mul(0.3)));
        return m;
    }

    /**
     * Checks that {@code m} on x (B, T, C) with document ids {@code ids} (B·T, contiguous runs) gives each run's
     * outputs as if it ran alone (causal or non-causal mask as the mixer is).
     */
    static void eachRunAlone(TokenMixer m, Tensor x, long[] ids, boolean causal) {
        int bs = x.size(0);
        int t = x.size(1);
        Tensor out = m.forward(Variable.constant(x), new AttentionMask(causal, Tensor.of(ids, bs, t), 0), null).data();
        AttentionMask plain = causal ? AttentionMask.causalOnly() : AttentionMask.NONE;
        for (int b = 0; b < bs; b++) {
            int s = 0;
            for (int e = 1; e <= t; e++) {
                if (e == t || ids[b * t + e] != ids[b * t + e - 1]) {
                    Tensor alone = x.narrow(0, b, 1).narrow(1, s, e - s).contiguous();
                    LruTest.close(Ref.d(m.forward(Variable.constant(alone), plain, null).data()),
                            Ref.d(out.narrow(0, b, 1).narrow(1, s, e - s)), 1e-12);
                    s = e;
                }
            }
        }
    }
}
