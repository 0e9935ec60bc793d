package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;

/**
 * The output projection to vocabulary logits (A15): logits = h·Wᵀ with W (vocab, E).
 * Untied: W is this head's own parameter. Tied (Press &amp; Wolf 2017; Inan et al. 2017): W is the
 * {@link InputEmbedding}'s table ({@link TokenEmbedding}, or E6's {@link Define}), registered here with {@code shareParameter}, so
 * {@code namedParameters()} lists it once (under the embedding's name). When that embedding is
 * factorized (E &lt; d), a projection {@code dense} (d → E, no bias) precedes the tied product.
 */
public final class LmHead extends Module implements Layer {
    private final Variable weight;
    private final Linear dense;
    private final boolean tied;

    /** An untied head with its own (vocab, dim) weight. */
    public LmHead(int dim, int vocab, Generator g, DType dtype) {
        this.weight = parameter("weight", Init.kaimingUniform(g, 1 / Math.sqrt(3), vocab, dim).to(dtype));
        this.dense = null;
        this.tied = false;
    }

    /** A head tied to {@code embedding}'s table. */
    public LmHead(InputEmbedding embedding, Generator g) {
        this.tied = true;
        this.dense = embedding.factorized()
                ? child("dense", Params.linear(embedding.dim(), embedding.embeddingDim(), false, g, embedding.weight().dtype()))
                : null;
        this.weight = shareParameter("weight", embedding.weight());
    }

    @Override
    public Variable forward(Variable h) {
        Variable x = dense == null ? h : dense.forward(h);
        return x.matmul(weight.mT()); // (B, T, V)
    }

    public Variable weight() {
        return weight;
    }

    public boolean tied() {
        return tied;
    }
}
