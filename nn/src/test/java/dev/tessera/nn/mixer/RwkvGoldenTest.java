package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * E12 against transformers' RwkvSelfAttention and RwkvFeedForward (RWKV-4, CPU path
 * {@code rwkv_linear_attention_cpu}): the fixture written by {@code nn/tools/golden_e12_rwkv.py}
 * holds parameters, input, output weights, outputs and every gradient by Hugging Face name. The
 * reference casts keys to float32, hence 1e-6.
 */
class RwkvGoldenTest {
    private static final double TOL = 1e-6;

    @Test
    void timeMixAndChannelMixMatchTransformers() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/e12/rwkv.safetensors").toURI()));
        Tensor x = g.get("x"); // (B, T, C)
        int c = x.size(2);
        Rwkv time = new Rwkv(c, new Rwkv.Options(), DType.F64, new Generator(0));
        compare(time, "time", g, x);
        MixerState state = new MixerState();
        double[] decoded;
        try (var s = GradMode.noGrad()) {
            Variable a = time.forward(Variable.constant(x.narrow(1, 0, 3).contiguous()), AttentionMask.causalOnly(), state);
            Variable b = time.forward(Variable.constant(x.narrow(1, 3, 2).contiguous()), AttentionMask.causalOnly(), state);
            Variable d = time.forward(Variable.constant(x.narrow(1, 5, 2).contiguous()), AttentionMask.causalOnly(), state);
            decoded = Ref.d(Variable.cat(1, a, b, d).data());
        }
        LruTest.close(Ref.d(g.get("time.decode.out")), decoded, TOL);
        int hidden = Integer.parseInt(SafeTensors.readMetadata(Path.of(getClass().getResource("/golden/e12/rwkv.safetensors").toURI()))
                .get("hidden"));
        compare(new RwkvChannelMix(c, hidden, DType.F64, new Generator(0)), "channel", g, x);
    }

    private static <M extends Module & TokenMixer> void compare(M m, String prefix, Map<String, Tensor> g, Tensor x) {
        var params = m.namedParameters();
        params.forEach((name, p) -> p.data().copyFromInPlace(g.get(prefix + "." + name)));
        assertEquals(params.size(), g.keySet().stream().filter(k -> k.startsWith(prefix + ".grad.") && !k.endsWith(".grad.x")).count(),
                prefix + ": every reference parameter has a counterpart");
        Variable in = Variable.of(x, true);
        Variable out = m.forward(in, null, null);
        LruTest.close(Ref.d(g.get(prefix + ".out")), Ref.d(out.data()), TOL);
        out.backward(g.get(prefix + ".grad_output"));
        LruTest.close(Ref.d(g.get(prefix + ".grad.x")), Ref.d(in.grad()), TOL);
        params.forEach((name, p) -> LruTest.close(Ref.d(g.get(prefix + ".grad." + name)), Ref.d(p.grad()), TOL));
    }
}
