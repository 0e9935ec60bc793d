package dev.tessera.gpu;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The condition behind {@link RequiresCuda}: enabled only when {@link GpuSupport#available()}. */
public final class CudaCondition implements ExecutionCondition {
    private static final AtomicBoolean PRINTED = new AtomicBoolean();

    /** The skip reason for a given probe result (empty = CUDA usable). */
    static ConditionEvaluationResult evaluate(Optional<String> unavailable) {
        if (unavailable.isEmpty()) {
            return ConditionEvaluationResult.enabled("CUDA available");
        }
        return ConditionEvaluationResult.disabled("CUDA not available: " + unavailable.get());
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        ConditionEvaluationResult r = evaluate(GpuSupport.unavailableReason());
        if (r.isDisabled() && PRINTED.compareAndSet(false, true)) {
            System.err.println("[gpu tests skipped] " + r.getReason().orElse(""));
        }
        return r;
    }
}
