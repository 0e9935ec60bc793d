package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * E16 against transformers' MixtralSparseMoeBlock (top-2, renormalised gates), Mixtral's
 * load_balancing_loss_func, Switch's router_z_loss_func and SwitchTransformersTop1Router with an
 * expert capacity: the fixture written by {@code nn/tools/golden_e16_moe.py} holds the weights, inputs,
 * outputs and gradients in float64 by Hugging Face name.
 */
class MixtureOfExpertsGoldenTest {
    private static final double TOL = 1e-10;

    private static Map<String, Tensor> fixture() throws Exception {
        return SafeTensors.read(Path.of(MixtureOfExpertsGoldenTest.class.getResource("/golden/e16/moe.safetensors").toURI()));
    }

    private static MixtureOfExperts load(Map<String, Tensor> g, String prefix, MixtureOfExperts.Options o) {
        var m = new MixtureOfExperts(g.get("x").size(2), 8, o, DType.F64, new Generator(0));
        Map<String, Variable> params = m.namedParameters();
        assertEquals(Set.of("gate.weight", "experts.gate_up_proj", "experts.down_proj"), params.keySet());
        params.forEach((name, p) -> p.data().copyFromInPlace(g.get(name.equals("gate.weight") ? prefix + name : name)));
        return m;
    }

    @Test
    void matchesMixtralSparseMoeBlock() throws Exception {
        Map<String, Tensor> g = fixture();
        int hidden = g.get("experts.down_proj").size(2);
        MixtureOfExperts m = load(g, "", new MixtureOfExperts.Options(4, 2, hidden, 0, 0, 0, true));
        Variable x = Variable.of(g.get("x"), true);
        Variable out = m.forward(x);
        Ref.assertClose(g.get("out"), out.data(), TOL);
        out.backward(g.get("grad_output"));
        Ref.assertClose(g.get("grad.x"), x.grad(), TOL);
        m.namedParameters().forEach((name, p) -> Ref.assertClose(g.get("grad." + name), p.grad(), TOL));
    }

    /** The regularizer with one coefficient at 1 and the other at 0 is transformers' loss, value and gradients. */
    @Test
    void auxiliaryLossesMatchTransformers() throws Exception {
        Map<String, Tensor> g = fixture();
        int hidden = g.get("experts.down_proj").size(2);
        for (String loss : new String[] {"balance", "z_loss"}) {
            boolean balance = loss.equals("balance");
            MixtureOfExperts m = load(g, "", new MixtureOfExperts.Options(4, 2, hidden, 0, balance ? 1 : 0, balance ? 0 : 1, true));
            Variable x = Variable.of(g.get("x"), true);
            m.forward(x);
            Variable r = m.regularization();
            assertEquals(g.get(loss).item(), r.item(), TOL, loss);
            r.backward();
            Ref.assertClose(g.get(loss + ".grad.x"), x.grad(), TOL);
            Ref.assertClose(g.get(loss + ".grad.gate.weight"), m.namedParameters().get("gate.weight").grad(), TOL);
        }
    }

    /** Top-1 with capacity 2 of 8 tokens over 4 experts (factor 1): the same tokens dropped as Switch's router, kept ones gated by p. */
    @Test
    void matchesSwitchTop1RouterWithCapacity() throws Exception {
        Map<String, Tensor> g = fixture();
        int hidden = g.get("experts.down_proj").size(2);
        MixtureOfExperts m = load(g, "switch.", new MixtureOfExperts.Options(4, 1, hidden, 1.0, 0, 0, false));
        Tensor x = g.get("switch.x");
        assertEquals(2, m.capacity(x.size(1)));
        Ref.assertClose(g.get("switch.out"), m.forward(Variable.constant(x)).data(), TOL);
    }
}
