package dev.tessera.autograd;

/**
 * Whether ops record a graph on this thread. {@code try (var scope = GradMode.noGrad()) { ... }}
 * turns recording off inside the block (for evaluation and optimizer updates) and restores the
 * previous mode on exit, even when scopes nest.
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {}

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the returned scope is closed. */
    public static Scope noGrad() {
        return set(false);
    }

    /** Enables recording (inside a noGrad block) until the returned scope is closed. */
    public static Scope enableGrad() {
        return set(true);
    }

    private static Scope set(boolean enabled) {
        boolean[] flag = ENABLED.get();
        boolean previous = flag[0];
        flag[0] = enabled;
        return () -> flag[0] = previous;
    }

    /** A scope that restores the previous grad mode; close() never throws. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
