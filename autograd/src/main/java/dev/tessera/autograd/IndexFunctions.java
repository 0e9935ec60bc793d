package dev.tessera.autograd;

import dev.tessera.tensor.Indexing;
import dev.tessera.tensor.Tensor;

/**
 * Indexing ops and their backward: what a forward gathers, the backward scatter-adds back
 * (deterministically: additions happen in index order), and what a forward scatters, the
 * backward gathers.
 */
final class IndexFunctions {
    private IndexFunctions() {}

    /** y = x.gather(dim, idx); dx = zeros.scatterAdd(dim, idx, g). */
    static Variable gather(Variable x, int dim, Tensor index) {
        Tensor in = x.data();
        return Variable.record("gather", in.gather(dim, index), g -> new Tensor[] {
            Tensor.zeros(g.device(), in.dtype(), in.shape()).scatterAdd(dim, index, g.contiguous())}, new Tensor[] {index}, x);
    }

    /** y = index_select(x, dim, idx) = gather with idx broadcast along the other dims. */
    static Variable indexSelect(Variable x, int dim, Tensor index) {
        Tensor in = x.data();
        int d = dim < 0 ? dim + Math.max(1, in.rank()) : dim;
        Tensor out = in.indexSelect(dim, index);
        return Variable.record("index_select", out, g -> {
            int[] view = new int[out.rank()];
            java.util.Arrays.fill(view, 1);
            view[d] = index.numel();
            Tensor full = index.reshape(view).expand(out.shape()).contiguous();
            return new Tensor[] {Tensor.zeros(g.device(), in.dtype(), in.shape()).scatterAdd(d, full, g.contiguous())};
        }, new Tensor[] {index}, x);
    }

    /** y = x with src written at idx; dx = g with those places zeroed, dsrc = g gathered at idx. */
    static Variable scatter(Variable x, int dim, Tensor index, Variable src) {
        Tensor out = x.data().scatter(dim, index, src.data());
        return Variable.record("scatter", out, g -> new Tensor[] {
            Indexing.scatter(g, dim, index, 0.0), g.gather(dim, index)}, new Tensor[] {index}, x, src);
    }

    /** y = x + src added at idx; dx = g, dsrc = g gathered at idx. */
    static Variable scatterAdd(Variable x, int dim, Tensor index, Variable src) {
        Tensor out = x.data().scatterAdd(dim, index, src.data());
        return Variable.record("scatter_add", out, g -> new Tensor[] {g, g.gather(dim, index)}, new Tensor[] {index}, x, src);
    }

    /** y = weight[ids]; dweight = rows of g added into the rows the ids picked. */
    static Variable embedding(Variable weight, Tensor ids) {
        Tensor w = weight.data();
        Tensor out = w.embedding(ids);
        int vocab = w.size(0);
        return Variable.record("embedding", out, g -> new Tensor[] {Indexing.embeddingBackward(g.to(w.dtype()), ids, vocab)},
                new Tensor[] {ids}, weight);
    }

    static Variable tril(Variable x, int diagonal, boolean lower) {
        Tensor out = lower ? x.data().tril(diagonal) : x.data().triu(diagonal);
        return Variable.record(lower ? "tril" : "triu", out, g -> new Tensor[] {lower ? g.tril(diagonal) : g.triu(diagonal)},
                new Tensor[0], x);
    }
}
