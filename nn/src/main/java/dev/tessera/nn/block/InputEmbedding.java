package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.Tensor;

/**
 * What a decoder's token embedding is to the rest of the model: ids (B, T) → (B, T, dim), with a
 * (vocab, E) lookup table that {@link LmHead} may tie to (through a dim → E projection when
 * E &lt; dim). Either the plain or ALBERT-factorized {@link TokenEmbedding}, or DeFINE's deep
 * factorized embedding ({@link Define}, E6), so the models pick one by config without knowing which.
 */
public abstract class InputEmbedding extends Module {

    /** ids (B, T) integers → (B, T, dim). */
    public abstract Variable forward(Tensor ids);

    /** The (vocab, E) lookup table. */
    public abstract Variable weight();

    /** The model width the embedding produces. */
    public abstract int dim();

    /** E, the width of the lookup table. */
    public int embeddingDim() {
        return weight().size(1);
    }

    /** Whether the table is narrower than the model (a tied head then projects dim → E first). */
    public boolean factorized() {
        return embeddingDim() < dim();
    }
}
