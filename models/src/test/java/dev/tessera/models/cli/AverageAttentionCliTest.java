package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import org.junit.jupiter.api.Test;

/** B28: {@code --attention average} names the average attention network, and an unknown name lists it among the valid ones. */
class AverageAttentionCliTest {

    @Test
    void averageIsAnAttentionName() {
        assertEquals(AttentionKind.AVERAGE, TrainCommand.parseKind("average"));
        String message = assertThrows(IllegalArgumentException.class, () -> TrainCommand.parseKind("mean")).getMessage();
        assertTrue(message.startsWith("train: unknown --attention 'mean'") && message.contains("average") && !message.contains("\n"), message);
    }
}
