package dev.tessera.nn.position;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionReference;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PositionsTest {

    /** PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(pos/10000^(2i/d)). */
    @Property(tries = 30)
    void sinusoidalMatchesFormula(@ForAll @IntRange(min = 1, max = 9) int d, @ForAll @IntRange(min = 0, max = 6) int length,
            @ForAll @IntRange(min = 0, max = 2000) int offset) {
        Tensor pe = new SinusoidalPositions(d).encode(length, offset, DType.F64);
        double[] expected = new double[length * d];
        for (int p = 0; p < length; p++) {
            for (int i = 0; 2 * i < d; i++) {
                double angle = (offset + p) / Math.pow(10000, 2.0 * i / d);
                expected[p * d + 2 * i] = Math.sin(angle);
                if (2 * i + 1 < d) {
                    expected[p * d + 2 * i + 1] = Math.cos(angle);
                }
            }
        }
        AttentionReference.assertClose(expected, pe, 1e-12);
    }

    @Test
    void sinusoidalOffsetEqualsRowsOfTheFullTable() {
        SinusoidalPositions pos = new SinusoidalPositions(6);
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 2, 10, 6));
        Tensor full = pos.forward(x, 0).data();
        for (int p = 0; p < 10; p++) {
            Tensor step = pos.forward(x.narrow(1, p, 1), p).data();
            AttentionReference.assertClose(full.narrow(1, p, 1).contiguous(), step, 1e-15);
        }
        assertEquals(DType.F32, pos.forward(Variable.constant(Tensor.zeros(DType.F32, 3, 6)), 0).dtype());
        assertEquals(0, pos.parameters().size());
        GradCheck.check(in -> pos.forward(in[0], 3), AttentionReference.randn(2, 1, 2, 4, 6));
    }

    @Test
    void learnedPositionsReadTheTableFromTheOffset() {
        LearnedPositions wpe = new LearnedPositions(16, 4, 0.02, new Generator(5));
        assertEquals(java.util.Set.of("weight"), wpe.namedParameters().keySet());
        assertEquals(java.util.List.of(16, 4), java.util.Arrays.stream(wpe.weight().shape()).boxed().toList());
        Variable x = Variable.constant(Tensor.zeros(DType.F32, 2, 5, 4));
        Tensor full = wpe.forward(x, 0).data();
        Tensor table = wpe.weight().data();
        for (int p = 0; p < 5; p++) {
            AttentionReference.assertClose(table.narrow(0, p, 1).expand(2, 1, 4).contiguous(),
                    wpe.forward(x.narrow(1, p, 1), p).data(), 0);
            AttentionReference.assertClose(full.narrow(1, p, 1).contiguous(), wpe.forward(x.narrow(1, p, 1), p).data(), 0);
        }
        assertThrows(IllegalArgumentException.class, () -> wpe.forward(x, 12));
    }

    @Test
    void learnedPositionsGradientHitsOnlyTheUsedRows() {
        LearnedPositions wpe = new LearnedPositions(8, 3, 0.02, new Generator(5));
        Variable x = Variable.constant(Tensor.ones(DType.F32, 2, 3, 3));
        wpe.forward(x, 4).sum().backward();
        double[] g = wpe.weight().grad().toDoubleArray();
        for (int p = 0; p < 8; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(p >= 4 && p < 7 ? 2.0 : 0.0, g[p * 3 + c], 0, "row " + p);
            }
        }
    }
}
