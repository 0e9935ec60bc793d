package dev.tessera.autograd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
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

    /**
     * The same graph as a standalone SVG, laid out in layers (inputs at the bottom, the root at
     * the top: a node's layer is its longest path from a leaf), so a page can show it without
     * Graphviz. Ops are rounded boxes, leaves square ones; edges are straight lines.
     */
    public static String toSvg(Variable root) {
        List<Object> order = new ArrayList<>(); // leaves and nodes, inputs before consumers
        Map<Object, Integer> layer = new IdentityHashMap<>();
        Map<Object, List<Object>> inputs = new IdentityHashMap<>();
        if (root.isLeaf()) {
            order.add(root);
            layer.put(root, 0);
        } else {
            List<Node> nodes = Engine.topologicalOrder(root.node());
            java.util.Collections.reverse(nodes); // inputs first
            for (Node node : nodes) {
                List<Object> in = new ArrayList<>();
                int depth = 0;
                for (int i = 0; i < node.inputNodes.length; i++) {
                    Object from = node.inputLeaves[i] != null ? node.inputLeaves[i] : node.inputNodes[i];
                    if (from == null) {
                        continue;
                    }
                    if (from instanceof Variable leaf && !layer.containsKey(leaf)) {
                        layer.put(leaf, 0);
                        order.add(leaf);
                    }
                    in.add(from);
                    depth = Math.max(depth, layer.get(from) + 1);
                }
                layer.put(node, depth);
                inputs.put(node, in);
                order.add(node);
            }
        }
        int cellW = 190;
        int cellH = 56;
        Map<Integer, Integer> filled = new java.util.HashMap<>();
        Map<Object, int[]> at = new IdentityHashMap<>();
        int layers = 0;
        for (Object o : order) {
            int l = layer.get(o);
            layers = Math.max(layers, l + 1);
            int col = filled.merge(l, 1, Integer::sum) - 1;
            at.put(o, new int[] {10 + col * cellW, l});
        }
        int width = 20 + filled.values().stream().mapToInt(Integer::intValue).max().orElse(1) * cellW;
        int height = 20 + layers * cellH;
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" font-family=\"monospace\" font-size=\"11\">\n");
        for (Object o : order) {
            for (Object from : inputs.getOrDefault(o, List.of())) {
                int[] a = at.get(from);
                int[] b = at.get(o);
                sb.append(String.format(java.util.Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n",
                        a[0] + 85, y(a[1], layers, cellH), b[0] + 85, y(b[1], layers, cellH) + 30));
            }
        }
        for (Object o : order) {
            int[] p = at.get(o);
            boolean leaf = o instanceof Variable;
            String label = leaf ? (((Variable) o).name() == null ? "leaf" : ((Variable) o).name()) + " " + Arrays.toString(((Variable) o).shape())
                    : ((Node) o).name + " " + Arrays.toString(((Node) o).outputShape);
            if (label.length() > 28) {
                label = label.substring(0, 27) + "…";
            }
            sb.append(String.format(java.util.Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"170\" height=\"30\" rx=\"%d\" fill=\"%s\" stroke=\"#555\"/>%n",
                    p[0], y(p[1], layers, cellH), leaf ? 0 : 12, leaf ? "#dbe9f6" : "#f6f1db"));
            sb.append(String.format(java.util.Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", p[0] + 85,
                    y(p[1], layers, cellH) + 19, label.replace("&", "&amp;").replace("<", "&lt;")));
        }
        return sb.append("</svg>\n").toString();
    }

    /** The top edge of a box in {@code layer} (layer 0 at the bottom). */
    private static int y(int layer, int layers, int cellH) {
        return 10 + (layers - 1 - layer) * cellH;
    }
}
