package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KernelOptionsTest {

    enum Shape { BAND, STRIDE }

    public record Sample(int size, double scale, boolean causal, Shape shape, String label) {
        public Sample {
            if (size < 1) {
                throw new IllegalArgumentException("sample: option size must be >= 1, got " + size);
            }
        }
    }

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void bindsEveryTypeFromTextOrValuesOverDefaults() {
        Map<String, String> defaults = Map.of("scale", "0.5", "causal", "true", "shape", "band", "label", "x");
        Sample s = KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", "3", "shape", "STRIDE"));
        assertEquals(new Sample(3, 0.5, true, Shape.STRIDE, "x"), s);
        Sample fromJson = KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", 7, "scale", 2.0, "causal", false));
        assertEquals(new Sample(7, 2.0, false, Shape.BAND, "x"), fromJson);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("size", 7); expected.put("scale", 2.0); expected.put("causal", false); expected.put("shape", "band"); expected.put("label", "x");
        assertEquals(expected, KernelOptions.values(fromJson));
        assertEquals(fromJson, KernelOptions.bind("sample", Sample.class, Map.of(), KernelOptions.values(fromJson)), "values round-trip");
    }

    @Test
    void oneLineErrorsNameTheOwnerAndTheValidOptions() {
        Map<String, String> defaults = Map.of("scale", "0.5", "causal", "true", "shape", "band", "label", "x");
        assertEquals("sample: unknown option 'width' (options: size, scale, causal, shape, label)",
                error(() -> KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", "1", "width", "2"))));
        assertEquals("sample needs option size (options: size, scale, causal, shape, label)",
                error(() -> KernelOptions.bind("sample", Sample.class, defaults, Map.of())));
        assertEquals("sample: option size must be an integer, got 'three'",
                error(() -> KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", "three"))));
        assertEquals("sample: option causal must be true or false, got 'yes'",
                error(() -> KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", "1", "causal", "yes"))));
        assertEquals("sample: option shape must be one of band, stride, got 'ring'",
                error(() -> KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", "1", "shape", "ring"))));
        assertEquals("sample: option size must be >= 1, got 0",
                error(() -> KernelOptions.bind("sample", Sample.class, defaults, Map.of("size", "0"))), "the record's own validation");
    }

    @Test
    void everyKindBindsItsOptionsByName() {
        assertEquals(new KernelOptions.None(), AttentionKind.SOFTMAX.defaultOptions());
        assertEquals("attention softmax takes no options, got 'window'", error(() -> AttentionKind.SOFTMAX.options(Map.of("window", "4"))));
        assertEquals(new SlidingWindowAttention.Options(4), AttentionKind.SLIDING_WINDOW.options(Map.of("window", "4")));
        assertEquals("attention sliding_window needs option window (options: window)", error(AttentionKind.SLIDING_WINDOW::defaultOptions));
        assertEquals("attention topk: unknown option 'window' (options: k)", error(() -> AttentionKind.TOPK.options(Map.of("window", "4"))));
        assertEquals(AttentionKind.SLIDING_WINDOW, AttentionKind.named("Sliding_Window"));
        assertEquals(new AdaptiveSpanAttention.Options(AdaptiveSpanAttention.RAMP, 1e-3), AttentionKind.ADAPTIVE_SPAN.options(Map.of("span_loss", "1e-3")),
                "a camelCase component is a snake_case option, the others keep their defaults");
        assertEquals("attention adaptive_span: unknown option 'spanLoss' (options: ramp, span_loss)",
                error(() -> AttentionKind.ADAPTIVE_SPAN.options(Map.of("spanLoss", "1"))));
        assertEquals(Map.of("ramp", 32.0, "span_loss", 2e-6), KernelOptions.values(AttentionKind.ADAPTIVE_SPAN.defaultOptions()));
        String unknown = error(() -> AttentionKind.named("retnet-x"));
        for (AttentionKind k : AttentionKind.values()) {
            assert unknown.contains(k.configName()) : unknown;
        }
    }
}
