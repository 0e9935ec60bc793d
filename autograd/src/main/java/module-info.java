/**
 * Tessera autograd: the tape, {@code backward()}, each op's derivative, grad mode, custom
 * functions, checkpointing, hooks and graph export. Its API takes and returns tensors, so it
 * requires {@code dev.tessera.tensor} transitively: an application that reads this module reads
 * both.
 */
module dev.tessera.autograd {
    requires transitive dev.tessera.tensor;

    exports dev.tessera.autograd;
}
