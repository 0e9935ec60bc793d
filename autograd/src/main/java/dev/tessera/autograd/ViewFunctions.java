package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * Views, dtype casts and copies. A view's backward puts the gradient back where the view reads
 * from: reshape back, permute by the inverse, sum over expanded dims, or write into a zero
 * tensor through the same view (slice, select, diagonal).
 */
final class ViewFunctions {
    private ViewFunctions() {}

    static Variable to(Variable x, DType dtype) {
        DType from = x.dtype();
        return Variable.record("to_" + dtype.torchName(), x.data().to(dtype), g -> new Tensor[] {g.to(from)}, new Tensor[0], x);
    }

    /** Any op that only changes the shape (same elements, same order): the gradient is reshaped back. */
    static Variable reshapeLike(String op, Variable x, Tensor out) {
        int[] shape = x.data().shape();
        return Variable.recordView(op, out, g -> new Tensor[] {g.reshape(shape)}, new Tensor[0], x, x);
    }

    static Variable reshape(Variable x, int[] shape) {
        return reshapeLike("reshape", x, x.data().reshape(shape));
    }

    static Variable view(Variable x, int[] shape) {
        return reshapeLike("view", x, x.data().view(shape));
    }

    static Variable permute(Variable x, int[] dims) {
        int rank = x.rank();
        int[] inverse = new int[rank];
        for (int i = 0; i < rank; i++) {
            inverse[dims[i] < 0 ? dims[i] + rank : dims[i]] = i;
        }
        return Variable.recordView("permute", x.data().permute(dims), g -> new Tensor[] {g.permute(inverse)}, new Tensor[0], x, x);
    }

    static Variable transpose(Variable x, int d0, int d1) {
        return Variable.recordView("transpose", x.data().transpose(d0, d1), g -> new Tensor[] {g.transpose(d0, d1)}, new Tensor[0], x, x);
    }

    static Variable expand(Variable x, int[] sizes) {
        int[] shape = x.data().shape();
        DType dt = x.dtype();
        return Variable.recordView("expand", x.data().expand(sizes), g -> new Tensor[] {Derivatives.sumToShape(g, shape, dt)},
                new Tensor[0], x, x);
    }

    /** A view whose gradient is scattered back by writing into zeros through the same view. */
    private static Variable writeBackView(String op, Variable x, UnaryOperator<Tensor> view) {
        int[] shape = x.data().shape();
        DType dt = x.dtype();
        return Variable.recordView(op, view.apply(x.data()), g -> {
            Tensor z = Tensor.zeros(g.device(), dt, shape);
            view.apply(z).copyFromInPlace(g);
            return new Tensor[] {z};
        }, new Tensor[0], x, x);
    }

    static Variable slice(Variable x, int dim, int start, int end, int step, boolean narrow) {
        if (narrow) {
            int length = end - start;
            return writeBackView("narrow", x, t -> t.narrow(dim, start, length));
        }
        return writeBackView("slice", x, t -> t.slice(dim, start, end, step));
    }

    static Variable select(Variable x, int dim, int index) {
        return writeBackView("select", x, t -> t.select(dim, index));
    }

    static Variable diagonal(Variable x, int offset, int d1, int d2) {
        return writeBackView("diagonal", x, t -> t.diagonal(offset, d1, d2));
    }

    static Variable contiguous(Variable x) {
        return Variable.record("contiguous", x.data().contiguous(), g -> new Tensor[] {g}, new Tensor[0], x);
    }

    /** Pieces produced by Tensor.split/chunk: each is a narrow of {@code x} along {@code dim}. */
    static Variable[] split(Variable x, Tensor[] pieces, int dim) {
        Variable[] out = new Variable[pieces.length];
        int d = dim < 0 ? dim + x.rank() : dim;
        int start = 0;
        for (int i = 0; i < pieces.length; i++) {
            int len = pieces[i].size(d);
            out[i] = slice(x, d, start, start + len, 1, true);
            start += len;
        }
        return out;
    }

    /** cat: each input's gradient is its narrow of g. */
    static Variable cat(int dim, Variable... parts) {
        Tensor[] data = new Tensor[parts.length];
        for (int i = 0; i < parts.length; i++) {
            data[i] = parts[i].data();
        }
        Tensor out = Tensor.cat(dim, data);
        int d = dim < 0 ? dim + out.rank() : dim;
        return Variable.record("cat", out, g -> {
            Tensor[] grads = new Tensor[parts.length];
            int start = 0;
            for (int i = 0; i < parts.length; i++) {
                int len = data[i].size(d);
                grads[i] = g.narrow(d, start, len).contiguous().to(data[i].dtype());
                start += len;
            }
            return grads;
        }, new Tensor[0], parts);
    }

    static Variable stack(int dim, Variable... parts) {
        Variable[] unsqueezed = new Variable[parts.length];
        for (int i = 0; i < parts.length; i++) {
            unsqueezed[i] = parts[i].unsqueeze(dim);
        }
        return cat(dim, unsqueezed);
    }
}
