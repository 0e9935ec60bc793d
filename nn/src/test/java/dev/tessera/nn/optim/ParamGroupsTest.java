package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Embedding;
import dev.tessera.nn.Init;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.tensor.Generator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which parameters decay (G5): matrices yes; biases, norm gains and embeddings no. */
class ParamGroupsTest {

    static final class Tiny extends Module {
        final Embedding wte;
        final Variable lnWeight;
        final Linear fc;
        final Variable normWeight2d;
        final Variable proj;

        Tiny(Generator g) {
            wte = child("wte", new Embedding(10, 4, 0.02, g));
            lnWeight = parameter("ln_f_weight", Init.ones(4));
            fc = child("fc", new Linear(4, 3, true, g));
            normWeight2d = parameter("norm_scale", Init.ones(2, 2));
            proj = parameter("proj", Init.normal(g, 0.02, 3, 4));
        }
    }

    @Test
    void defaultRuleSplitsByRankAndName() {
        Tiny m = new Tiny(new Generator(1));
        List<ParamGroup> groups = ParamGroups.decayAndNoDecay(m, 0.1);
        assertEquals(2, groups.size());
        // Module lists its own parameters before its children's
        assertEquals(List.of(m.proj, m.fc.weight()), groups.get(0).params());
        assertEquals(0.1, groups.get(0).weightDecay());
        assertEquals(List.of(m.lnWeight, m.normWeight2d, m.wte.weight(), m.fc.bias()), groups.get(1).params());
        assertEquals(0.0, groups.get(1).weightDecay());
        AdamW opt = new AdamW(groups, 3e-4, 0.9, 0.95, 1e-8, 0.5);
        assertEquals(0.1, opt.groups().get(0).weightDecay());
        assertEquals(0.0, opt.groups().get(1).weightDecay());
        assertEquals(3e-4, opt.groups().get(1).lr());
    }

    @Test
    void ruleCanBeOverridden() {
        Tiny m = new Tiny(new Generator(2));
        List<ParamGroup> groups = ParamGroups.decayAndNoDecay(m, 0.1, (name, p) -> name.endsWith("bias"));
        assertEquals(2, groups.size());
        assertEquals(List.of(m.fc.bias()), groups.get(1).params());
        List<ParamGroup> all = ParamGroups.decayAndNoDecay(m, 0.1, (name, p) -> false);
        assertEquals(1, all.size());
        assertEquals(6, all.get(0).params().size());
        assertSame(m.lnWeight, all.get(0).params().get(0));
    }
}
