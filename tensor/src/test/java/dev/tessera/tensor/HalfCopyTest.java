package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** F32 ↔ BF16/F16 conversion (the fast path of Tensor.to) gives HalfFloats' bits for every element, strided or not, specials included. */
class HalfCopyTest {
    @Property(tries = 30)
    void f32ToHalfAndBackMatchesHalfFloats(@ForAll @IntRange(min = 1, max = 9) int rows, @ForAll @IntRange(min = 1, max = 9) int cols,
            @ForAll boolean transposed, @ForAll boolean bf16, @ForAll long seed) {
        Generator g = new Generator(seed);
        float[] values = new float[rows * cols];
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, -0f, 1e-42f, 65520f, 3.0e38f, 1 + 0x1p-8f, 1 + 0x1p-11f};
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 5 == 4 ? specials[(int) g.nextLong(specials.length)] : (float) (g.nextDouble() * 2 - 1) * (float) Math.pow(10, g.nextLong(9) - 4);
        }
        Tensor t = Tensor.of(values, rows, cols);
        Tensor src = transposed ? t.mT() : t;
        DType low = bf16 ? DType.BF16 : DType.F16;
        Tensor half = src.to(low);
        short[] bits = (short[]) half.storage().array();
        float[] logical = new float[values.length];
        double[] d = src.toDoubleArray();
        for (int i = 0; i < d.length; i++) {
            logical[i] = (float) d[i];
            short expected = bf16 ? HalfFloats.floatToBf16(logical[i]) : HalfFloats.floatToF16(logical[i]);
            assertEquals(expected, bits[half.offset() + i], "element " + i + " = " + logical[i]);
        }
        float[] back = half.to(DType.F32).toFloatArray();
        float[] expectedBack = new float[back.length];
        for (int i = 0; i < back.length; i++) {
            expectedBack[i] = bf16 ? HalfFloats.bf16ToFloat(bits[half.offset() + i]) : HalfFloats.f16ToFloat(bits[half.offset() + i]);
        }
        assertArrayEquals(expectedBack, back);
        Tensor strided = half.mT().to(DType.F32); // half to F32 through a strided source
        assertArrayEquals(half.mT().contiguous().to(DType.F32).toFloatArray(), strided.toFloatArray());
    }
}
