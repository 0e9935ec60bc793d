package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Init;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Params;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Token embedding (A15, A16, A14): e = dropout(LN(P·E[ids])).
 * <ul>
 *   <li>E (vocab, E) is the lookup table ({@code weight}); N(0, std²) init.</li>
 *   <li>Factorized embedding (ALBERT, Lan et al. 2019): when E &lt; d a projection P (E → d,
 *       {@code embedding_hidden_mapping_in}) maps to the model width, cutting V·d to V·E + E·d
 *       parameters. Without factorization P is the identity.</li>
 *   <li>Embedding LayerNorm (BLOOM, Scao et al. 2022; {@code word_embeddings_layernorm}), optional.</li>
 *   <li>Embedding dropout (p = 0 for none).</li>
 * </ul>
 * {@link LmHead} can tie its weight to {@link #weight()}.
 */
public final class TokenEmbedding extends InputEmbedding {
    private final int vocab;
    private final int dim;
    private final Variable weight;
    private final Linear projection;
    private final LayerNorm norm;
    private final Dropout dropout;

    public TokenEmbedding(int vocab, int dim, int embeddingDim, boolean layerNorm, double dropout, double std, Generator g, DType dtype) {
        if (vocab <= 0 || dim <= 0 || embeddingDim <= 0 || embeddingDim > dim) {
            throw new IllegalArgumentException("TokenEmbedding: need vocab > 0 and 0 < embeddingDim <= dim, got vocab=" + vocab
                    + " dim=" + dim + " embeddingDim=" + embeddingDim);
        }
        Params.checkFloating("TokenEmbedding", dtype);
        this.vocab = vocab;
        this.dim = dim;
        this.weight = parameter("weight", Init.normal(g, std, vocab, embeddingDim).to(dtype));
        this.projection = embeddingDim < dim ? child("embedding_hidden_mapping_in", Params.linear(embeddingDim, dim, true, g, dtype)) : null;
        this.norm = layerNorm ? child("word_embeddings_layernorm", new LayerNorm(dim, 1e-5, true, true, dtype)) : null;
        this.dropout = child("dropout", new Dropout(dropout, dropout > 0 ? g : null));
    }

    /** A plain (vocab, dim) table. */
    public TokenEmbedding(int vocab, int dim, double std, Generator g, DType dtype) {
        this(vocab, dim, dim, false, 0, std, g, dtype);
    }

    /** ids (B, T) integers → (B, T, dim). */
    @Override
    public Variable forward(Tensor ids) {
        Variable x = weight.embedding(ids); // (B, T, E)
        if (projection != null) {
            x = projection.forward(x); // (B, T, d)
        }
        if (norm != null) {
            x = norm.forward(x);
        }
        return dropout.forward(x);
    }

    @Override
    public Variable weight() {
        return weight;
    }

    public int vocab() {
        return vocab;
    }

    @Override
    public int dim() {
        return dim;
    }
}
