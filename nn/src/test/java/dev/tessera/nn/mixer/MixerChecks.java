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

    /**
     * Checks that the causal {@code m}'s full forward over x (2, 16, C) equals decoding it in chunks of 5, 1, 1, 7, 2
     * through {@link dev.tessera.nn.attention.KvCache#recurrent}, and that state tensor {@code which} holds
     * {@code rows(positions so far)} rows, {@code width} wide.
     */
    static void decodesInChunks(TokenMixer m, Tensor x, int which, int width, java.util.function.IntUnaryOperator rows) {
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        int[] chunks = {5, 1, 1, 7, 2};
        int[] at = {0};
        int[] seen = {0};
        double[] chunked = LruTest.decodeInChunks(m, x, chunks, state -> {
            seen[0] += chunks[at[0]++];
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {x.size(0), rows.applyAsInt(seen[0]), width}, state.tensors()[which].shape());
        });
        LruTest.close(full, chunked, 1e-12);
    }

    /** Central-difference checks of {@code m}'s gradients in its parameters and x (2, 6, C), without and with packed documents. */
    static <M extends Module & TokenMixer> void gradientsMatch(M m, Variable x, boolean causal) {
        java.util.List<Variable> leaves = new java.util.ArrayList<>(m.parameters());
        leaves.add(x);
        dev.tessera.nn.ParamGradCheck.check(() -> m.forward(x, null, null), leaves);
        AttentionMask docs = new AttentionMask(causal, Tensor.of(new long[] {0, 0, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0}, 2, 6), 0);
        dev.tessera.nn.ParamGradCheck.check(() -> m.forward(x, docs, null), leaves);
    }
}
