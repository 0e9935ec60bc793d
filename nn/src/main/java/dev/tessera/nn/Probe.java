package dev.tessera.nn;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Records what one forward pass computes inside a model, for {@code tessera inspect}: each decoder
 * layer's output (the residual stream after layer l, for the logit lens) and, for softmax
 * attention, each layer's attention probabilities (B, H, T, S). Models and kernels report here
 * only while a probe is open on the current thread, so training and decoding pay one thread-local
 * read per layer and nothing else. Recorded tensors are detached copies of what the pass made.
 *
 * <pre>
 * try (Probe probe = Probe.open()) {
 *     model.forward(ids, null);
 *     probe.layerOutputs();      // one (B, T, C) per layer
 *     probe.attention();         // layer → (B, H, T, S)
 * }
 * </pre>
 */
public final class Probe implements AutoCloseable {
    private static final ThreadLocal<Probe> ACTIVE = new ThreadLocal<>();

    private final List<Tensor> layerOutputs = new ArrayList<>();
    private final Map<Integer, Tensor> attention = new TreeMap<>();

    private Probe() {}

    /** Starts recording on this thread; one probe at a time. */
    public static Probe open() {
        if (ACTIVE.get() != null) {
            throw new IllegalStateException("Probe: a probe is already open on this thread");
        }
        Probe p = new Probe();
        ACTIVE.set(p);
        return p;
    }

    /** Whether a probe records on this thread (kernels skip the extra work otherwise). */
    public static boolean active() {
        return ACTIVE.get() != null;
    }

    /** A decoder layer's output; layers report in order, so the index is the layer's. */
    public static void layerOutput(Variable x) {
        Probe p = ACTIVE.get();
        if (p != null) {
            p.layerOutputs.add(x.data().copy());
        }
    }

    /** The attention probabilities (B, H, T, S) of the layer now running (the one after the last reported output). */
    public static void attentionProbabilities(Tensor probabilities) {
        Probe p = ACTIVE.get();
        if (p != null) {
            p.attention.put(p.layerOutputs.size(), probabilities);
        }
    }

    public List<Tensor> layerOutputs() {
        return Collections.unmodifiableList(layerOutputs);
    }

    public Map<Integer, Tensor> attention() {
        return Collections.unmodifiableMap(attention);
    }

    @Override
    public void close() {
        if (ACTIVE.get() == this) {
            ACTIVE.remove();
        }
    }
}
