package dev.tessera.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.ModuleList;
import dev.tessera.tensor.Generator;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResidualScalingTest {

    static final class Block extends Module {
        Block(Generator g) {
            child("c_attn", new Linear(32, 96, true, g));
            child("c_proj", new Linear(32, 32, true, g));
            child("down_proj", new Linear(128, 32, false, g));
            child("o_proj", new Linear(32, 32, false, g));
            child("not_c_proj", new Linear(32, 32, false, g));
        }
    }

    static final class Model extends Module {
        Model(Generator g, int layers) {
            ModuleList<Block> h = child("h", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                h.add(new Block(g));
            }
        }
    }

    @Test
    void rescalesResidualProjectionsOnly() {
        Generator g = new Generator(9);
        int layers = 6;
        Model model = new Model(g, layers);
        float[] cAttnBefore = model.namedParameters().get("h.0.c_attn.weight").data().toFloatArray();
        float[] biasBefore = model.namedParameters().get("h.0.c_proj.bias").data().toFloatArray();
        List<String> touched = ResidualScaling.apply(model, 0.02, layers, new Generator(1));
        assertEquals(3 * layers, touched.size());
        assertTrue(touched.contains("h.5.c_proj.weight") && touched.contains("h.0.down_proj.weight")
                && touched.contains("h.3.o_proj.weight"));
        assertFalse(touched.contains("h.0.not_c_proj.weight"));
        assertArrayEquals(cAttnBefore, model.namedParameters().get("h.0.c_attn.weight").data().toFloatArray());
        assertArrayEquals(biasBefore, model.namedParameters().get("h.0.c_proj.bias").data().toFloatArray());
        double expected = 0.02 / Math.sqrt(2.0 * layers);
        double sq = 0;
        int n = 0;
        for (String name : touched) {
            for (double x : model.namedParameters().get(name).data().toDoubleArray()) {
                sq += x * x;
                n++;
            }
        }
        assertEquals(expected, Math.sqrt(sq / n), 0.03 * expected);
        assertTrue(ResidualScaling.isResidualProjection("model.layers.0.mlp.down_proj.weight"));
        assertFalse(ResidualScaling.isResidualProjection("model.layers.0.mlp.xdown_proj.weight"));
    }
}
