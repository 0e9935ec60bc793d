package dev.tessera.autograd;

import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One recorded op: its inputs, the tensors its backward saved (with their storage versions at
 * save time) and the backward function. After backward the node is released (inputs, saved
 * tensors and closure dropped) unless the graph is retained, so memory does not grow step after step.
 */
final class Node {
    /** Computes the gradient of each input (null where an input needs none) from the output's gradient. */
    @FunctionalInterface
    interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    final String name;
    final int[] outputShape;
    /**
     * Where each input's gradient goes, captured when the op was recorded (an in-place op may later
     * give the input variable a new history; this edge must still point at the old one): the
     * producing node for a non-leaf, the variable itself for a leaf, nothing for a constant.
     */
    Node[] inputNodes;
    Variable[] inputLeaves;
    int[][] inputShapes;
    private Backward backward;
    private Tensor[] saved;
    private int[] savedVersions;
    final List<UnaryOperator<Tensor>> hooks = new ArrayList<>(1);
    /** A non-leaf whose {@code retainGrad()} was called: receives its gradient. */
    Variable retainedBy;

    Node(String name, int[] outputShape, Variable[] inputs, Backward backward, Tensor[] saved) {
        this.name = name;
        this.outputShape = outputShape;
        int n = inputs.length;
        this.inputNodes = new Node[n];
        this.inputLeaves = new Variable[n];
        this.inputShapes = new int[n][];
        for (int i = 0; i < n; i++) {
            Variable v = inputs[i];
            if (v != null && v.requiresGrad()) {
                inputNodes[i] = v.node();
                inputLeaves[i] = v.isLeaf() ? v : null;
                inputShapes[i] = v.data().shape();
            }
        }
        this.backward = backward;
        this.saved = saved;
        this.savedVersions = new int[saved.length];
        for (int i = 0; i < saved.length; i++) {
            savedVersions[i] = saved[i].storage().version();
        }
    }

    boolean released() {
        return backward == null;
    }

    Tensor[] backward(Tensor gradOutput) {
        if (backward == null) {
            throw new IllegalStateException(name + ": backward through the graph a second time; its saved tensors were freed "
                    + "after the first backward (pass retainGraph = true the first time)");
        }
        for (int i = 0; i < saved.length; i++) {
            int now = saved[i].storage().version();
            if (now != savedVersions[i]) {
                throw new IllegalStateException(name + ": a tensor saved for its gradient (shape "
                        + java.util.Arrays.toString(saved[i].shape()) + ") was modified by an in-place operation: saved at version "
                        + savedVersions[i] + ", now version " + now);
            }
        }
        return backward.apply(gradOutput);
    }

    void release() {
        backward = null;
        saved = new Tensor[0];
        savedVersions = new int[0];
        inputNodes = new Node[0];
        inputLeaves = new Variable[0];
        inputShapes = new int[0][];
    }
}
