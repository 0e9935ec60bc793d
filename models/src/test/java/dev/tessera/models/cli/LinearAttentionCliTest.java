package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import org.junit.jupiter.api.Test;

/** B3: {@code --attention linear} and {@code --attention deltanet} name its two kernels, and an unknown name lists them among the valid ones. */
class LinearAttentionCliTest {

    @Test
    void linearIsAnAttentionName() {
        assertEquals(AttentionKind.LINEAR, TrainCommand.parseKind("linear"));
        assertEquals(AttentionKind.DELTANET, TrainCommand.parseKind("deltanet"));
        String message = assertThrows(IllegalArgumentException.class, () -> TrainCommand.parseKind("quantum")).getMessage();
        assertTrue(message.startsWith("train: unknown --attention 'quantum'") && message.contains("linear") && message.contains("deltanet") && !message.contains("\n"),
                message);
    }
}
