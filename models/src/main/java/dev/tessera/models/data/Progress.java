package dev.tessera.models.data;

/** Progress of a long job in bytes, for a CLI progress bar. Called on the working thread. */
@FunctionalInterface
public interface Progress {
    /** {@code done} of {@code total} bytes processed so far ({@code done ≤ total}). */
    void update(long done, long total);

    Progress NONE = (done, total) -> { };
}
