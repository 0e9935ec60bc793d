package dev.tessera.nn.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** A15 tied/untied heads, factorized embeddings, cross-layer sharing; A16 embedding LayerNorm. */
class EmbeddingTest {

    @Property(tries = 30)
    void tokenEmbeddingMatchesReference(@ForAll @IntRange(min = 1, max = 9) int vocab, @ForAll @IntRange(min = 2, max = 6) int dim,
            @ForAll @IntRange(min = 1, max = 6) int e, @ForAll boolean layerNorm, @ForAll long seed) {
        int edim = Math.min(e, dim);
        TokenEmbedding emb = new TokenEmbedding(vocab, dim, edim, layerNorm, 0, 1, new Generator(seed), DType.F64);
        Ref.randomizeNorms(emb, seed);
        Tensor ids = Tensor.randint(new Generator(seed + 1), 0, vocab, DType.I64, 2, 3);
        Map<String, Tensor> s = emb.stateDict();
        double[] table = Ref.d(s.get("weight"));
        long[] idv = ids.toLongArray();
        double[] x = new double[idv.length * edim];
        for (int i = 0; i < idv.length; i++) {
            System.arraycopy(table, (int) idv[i] * edim, x, i * edim, edim);
        }
        if (edim < dim) {
            x = Ref.linear(x, idv.length, edim, Ref.p(s, "embedding_hidden_mapping_in.weight"), Ref.p(s, "embedding_hidden_mapping_in.bias"),
                    dim);
        }
        if (layerNorm) {
            x = Ref.layerNorm(x, dim, Ref.p(s, "word_embeddings_layernorm.weight"), Ref.p(s, "word_embeddings_layernorm.bias"), 1e-5);
        }
        Ref.assertClose(x, emb.forward(ids).data(), 1e-9);
    }

    @Test
    void factorizedEmbeddingGradientsAndParameterCount() {
        TokenEmbedding emb = new TokenEmbedding(7, 6, 2, true, 0, 1, new Generator(1), DType.F64);
        assertEquals(7 * 2 + (2 * 6 + 6) + 2 * 6, emb.parameterCount());
        assertEquals(List.of("weight", "embedding_hidden_mapping_in.weight", "embedding_hidden_mapping_in.bias",
                "word_embeddings_layernorm.weight", "word_embeddings_layernorm.bias"), List.copyOf(emb.namedParameters().keySet()));
        Tensor ids = Tensor.of(new long[] {0, 3, 3, 6}, 2, 2);
        ParamGradCheck.check(() -> emb.forward(ids), emb.parameters());
    }

    @Test
    void tiedHeadSharesTheEmbeddingTable() {
        TokenEmbedding emb = new TokenEmbedding(5, 4, 1, new Generator(1), DType.F64);
        LmHead tied = new LmHead(emb, new Generator(2));
        assertSame(emb.weight(), tied.weight());
        assertTrue(tied.tied());
        Tensor ids = Tensor.of(new long[] {1, 4, 2}, 1, 3);
        // gradient of the shared table collects both the lookup and the output projection
        ParamGradCheck.check(() -> tied.forward(emb.forward(ids)), emb.parameters());
        // factorized + tied: the head maps d → E with its own dense, then uses the table
        TokenEmbedding fe = new TokenEmbedding(5, 4, 2, false, 0, 1, new Generator(3), DType.F64);
        LmHead fh = new LmHead(fe, new Generator(4));
        assertEquals(List.of("weight", "dense.weight"), List.copyOf(fh.namedParameters().keySet()));
        ParamGradCheck.check(() -> fh.forward(fe.forward(ids)), ParamGradCheck.concat(fe.parameters(), fh.parameters().get(1)));
        LmHead untied = new LmHead(4, 5, new Generator(5), DType.F64);
        assertEquals(List.of(5, 4), List.of(untied.weight().size(0), untied.weight().size(1)));
    }

    @Test
    void sharedLayersListParametersOnce() {
        var block = TransformerBlockTest.config(4, NormKind.RMS_NORM, NormPlacement.PRE, BlockStyle.SERIAL, FeedForward.Kind.SWIGLU);
        var shared = new Decoder(new Decoder.Config(6, 3, block, true, 4, false, 0, true, true, 1, 0, 0.02), new Generator(1));
        var unshared = new Decoder(new Decoder.Config(6, 3, block, true, 4, false, 0, false, true, 1, 0, 0.02), new Generator(1));
        long blockParams = new TransformerBlock(block, new Generator(1)).parameterCount();
        assertEquals(shared.parameterCount() + 2 * blockParams, unshared.parameterCount());
        assertEquals(3, shared.blocks().size());
        assertSame(shared.blocks().get(0), shared.blocks().get(2));
        assertTrue(shared.namedParameters().keySet().stream().filter(k -> k.startsWith("layers.")).allMatch(k -> k.startsWith("layers.0.")));
        assertTrue(unshared.namedParameters().containsKey("layers.2.self_attn.q_proj.weight"));
        // tied: lm_head.weight is the embedding's and listed once, under embed_tokens
        assertTrue(shared.namedParameters().containsKey("embed_tokens.weight"));
        assertTrue(!shared.namedParameters().containsKey("lm_head.weight"));
        // gradients of the shared block sum over its three applications
        Tensor ids = Tensor.of(new long[] {1, 5, 2}, 1, 3);
        ParamGradCheck.check(() -> shared.forward(ids), shared.parameters());
    }
}
