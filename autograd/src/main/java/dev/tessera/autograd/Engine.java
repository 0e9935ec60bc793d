package dev.tessera.autograd;

import dev.tessera.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Reverse-mode sweep: topological order from the output, gradients accumulated per node and into leaves. */
final class Engine {
    private Engine() {}

    static void backward(Variable root, Tensor gradOutput, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad and has no graph (shape "
                    + Arrays.toString(root.data().shape()) + ")");
        }
        if (!Arrays.equals(gradOutput.shape(), root.data().shape())) {
            throw new IllegalArgumentException("backward: gradient shape " + Arrays.toString(gradOutput.shape())
                    + " does not match output shape " + Arrays.toString(root.data().shape()));
        }
        if (root.isLeaf()) {
            accumulateIntoLeaf(root, gradOutput);
            return;
        }
        List<Node> order = topologicalOrder(root.node());
        Map<Node, Tensor> grads = new IdentityHashMap<>();
        grads.put(root.node(), gradOutput);
        try (var scope = GradMode.noGrad()) {
            for (Node node : order) {
                Tensor g = grads.remove(node);
                if (g == null) {
                    continue; // no path carried gradient here
                }
                boolean timed = OpProfile.active();
                long start = timed ? System.nanoTime() : 0;
                for (UnaryOperator<Tensor> hook : node.hooks) {
                    g = orSame(hook.apply(g), g);
                }
                if (node.retainedBy != null) {
                    node.retainedBy.accumulateGrad(g);
                }
                Node[] inputNodes = node.inputNodes;
                Variable[] inputLeaves = node.inputLeaves;
                int[][] inputShapes = node.inputShapes;
                Tensor[] inputGrads = node.backward(g);
                for (int i = 0; i < inputNodes.length; i++) {
                    Tensor gi = inputGrads[i];
                    if (gi == null || inputShapes[i] == null) {
                        continue;
                    }
                    if (!Arrays.equals(gi.shape(), inputShapes[i])) {
                        throw new IllegalStateException(node.name + ": backward produced gradient of shape " + Arrays.toString(gi.shape())
                                + " for input " + i + " of shape " + Arrays.toString(inputShapes[i]));
                    }
                    if (inputLeaves[i] != null) {
                        accumulateIntoLeaf(inputLeaves[i], gi);
                    } else if (inputNodes[i] != null) {
                        grads.merge(inputNodes[i], gi, Tensor::add);
                    }
                }
                if (!retainGraph) {
                    node.release();
                }
                if (timed) {
                    OpProfile.add("backward", node.name, System.nanoTime() - start);
                }
            }
        }
    }

    private static Tensor orSame(Tensor replaced, Tensor original) {
        return replaced == null ? original : replaced;
    }

    private static void accumulateIntoLeaf(Variable leaf, Tensor g) {
        for (UnaryOperator<Tensor> hook : leaf.leafHooks()) {
            g = orSame(hook.apply(g), g);
        }
        leaf.accumulateGrad(g);
    }

    /** Nodes reachable from {@code root}, each after every node that consumes its output. */
    static List<Node> topologicalOrder(Node root) {
        List<Node> postOrder = new ArrayList<>();
        Map<Node, Boolean> visited = new IdentityHashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>(); // {node, next input index}
        stack.push(new Object[] {root, 0});
        visited.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int i = (Integer) frame[1];
            if (i < node.inputNodes.length) {
                frame[1] = i + 1;
                Node in = node.inputNodes[i];
                if (in != null && visited.put(in, Boolean.TRUE) == null) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                postOrder.add(node);
            }
        }
        java.util.Collections.reverse(postOrder);
        return postOrder;
    }
}
