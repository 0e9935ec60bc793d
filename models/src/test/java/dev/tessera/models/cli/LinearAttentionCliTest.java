package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import org.junit.jupiter.api.Test;

/** B3: {@code --attention linear} names the elu+1 linear attention, and an unknown name lists it among the valid ones. */
class LinearAttentionCliTest {

    @Test
    void linearIsAnAttentionName() {
        assertEquals(AttentionKind.LINEAR, TrainCommand.parseKind("linear"));
        String message = assertThrows(IllegalArgumentException.class, () -> TrainCommand.parseKind("quantum")).getMessage();
        assertTrue(message.startsWith("train: unknown --attention 'quantum'") && message.contains("linear") && !message.contains("\n"),
                message);
    }
}
