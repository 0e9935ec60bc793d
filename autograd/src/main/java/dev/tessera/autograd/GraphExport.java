package dev.tessera.autograd;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The recorded graph as Graphviz DOT, so a learner can see what a step built:
 * {@code dot -Tpng graph.dot -o graph.png}. Ops are ellipses labelled with the op and output
 * shape; leaves that require grad are boxes labelled with their name (if any) and shape.
 */
public final class GraphExport {
    private GraphExport() {}

    public static String toDot(Variable root) {
        StringBuilder sb = new StringBuilder("digraph autograd {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n");
        Map<Object, String> ids = new IdentityHashMap<>();
        if (root.isLeaf()) {
            sb.append("  ").append(leafId(root, ids, sb)).append(";\n");
            return sb.append("}\n").toString();
        }
        for (Node node : Engine.topologicalOrder(root.node())) {
            String id = id(node, ids);
            sb.append("  ").append(id).append(" [label=\"").append(node.name).append(' ').append(Arrays.toString(node.outputShape))
                    .append("\"];\n");
            for (int i = 0; i < node.inputNodes.length; i++) {
                String from = null;
                if (node.inputLeaves[i] != null) {
                    from = leafId(node.inputLeaves[i], ids, sb);
                } else if (node.inputNodes[i] != null) {
                    from = id(node.inputNodes[i], ids);
                }
                if (from != null) {
                    sb.append("  ").append(from).append(" -> ").append(id).append(";\n");
                }
            }
        }
        return sb.append("}\n").toString();
    }

    private static String id(Object o, Map<Object, String> ids) {
        return ids.computeIfAbsent(o, k -> "n" + ids.size());
    }

    private static String leafId(Variable leaf, Map<Object, String> ids, StringBuilder sb) {
        boolean fresh = !ids.containsKey(leaf);
        String id = id(leaf, ids);
        if (fresh) {
            String label = (leaf.name() == null ? "leaf" : leaf.name()) + " " + Arrays.toString(leaf.shape());
            sb.append("  ").append(id).append(" [shape=box, label=\"").append(label.replace("\"", "'")).append("\"];\n");
        }
        return id;
    }
}
