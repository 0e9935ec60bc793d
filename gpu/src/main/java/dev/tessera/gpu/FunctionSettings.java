package dev.tessera.gpu;

import dev.tessera.tensor.Tensor;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The settings a fused op's CUDA kernel reads from the op's attributes object (a custom function's
 * ε, the RoPE convention, the cross-entropy targets, an optimizer's state). The gpu module may
 * import only {@code tensor}, so the {@code nn} classes that carry them are reached reflectively:
 * public methods always, private fields where their package is open to this module (always on the
 * class path; on the module path with {@code --add-opens dev.tessera.nn/<package>=dev.tessera.gpu}).
 * Field names are {@code nn}'s; a renamed field fails here in one line naming the op and the field.
 */
final class FunctionSettings {
    private FunctionSettings() {}

    /** Softmax cross-entropy's targets in row order, ignored id and label smoothing ε. */
    record CrossEntropy(long[] targets, long ignoreIndex, double smoothing) {
        /** The rows that count towards the mean. */
        long kept() {
            return Arrays.stream(targets).filter(v -> v != ignoreIndex).count();
        }
    }

    /**
     * Attention's score scale α, whether it is causal and from which query position (key j is
     * visible to query i iff j ≤ i + queryOffset), and the (B, S) document ids (null for none).
     */
    record Attention(double alpha, boolean causal, int queryOffset, Tensor documentIds) {
        boolean documentMask() {
            return documentIds != null;
        }
    }

    /** A masked softmax's BOOL mask (broadcastable to the scores) and its score scale. */
    record MaskedSoftmax(Tensor allowed, double scale) {}

    /** One parameter's AdamW update: its step count (from 1), its group's lr and weight decay, and the betas and ε. */
    record AdamW(long step, double lr, double weightDecay, double beta1, double beta2, double eps) {}

    static double rmsNormEps(Object fn) {
        return (Double) field("rms_norm", fn, "eps");
    }

    /** Whether RoPE rotates (x[i], x[i + D/2]) (HALF_SPLIT) rather than (x[2i], x[2i+1]) (INTERLEAVED). */
    static boolean ropeHalfSplit(Object fn) {
        return ((Enum<?>) field("rope", fn, "convention")).name().equals("HALF_SPLIT");
    }

    static CrossEntropy crossEntropy(Object fn) {
        return new CrossEntropy((long[]) field("cross_entropy", fn, "targets"), (Long) field("cross_entropy", fn, "ignoreIndex"),
                (Double) field("cross_entropy", fn, "eps"));
    }

    static Attention attention(Object fn) {
        Object mask = field("attention", fn, "mask");
        return new Attention((Double) field("attention", fn, "alpha"), (Boolean) call("attention", mask, "causal"),
                (Integer) call("attention", mask, "queryOffset"), (Tensor) call("attention", mask, "documentIds"));
    }

    static MaskedSoftmax maskedSoftmax(Object fn) {
        return new MaskedSoftmax((Tensor) field("masked_softmax", fn, "allowed"), (Double) field("masked_softmax", fn, "scale"));
    }

    /**
     * The update of the parameter whose exp_avg and exp_avg_sq buffers are these tensors, from the
     * optimizer's {@code stateDict()} (parameters numbered across its {@code groups()} in order).
     */
    @SuppressWarnings("unchecked")
    static AdamW adamw(Object optimizer, Tensor expAvg, Tensor expAvgSq) {
        String op = "AdamW.step";
        Map<String, Tensor> state = (Map<String, Tensor>) call(op, optimizer, "stateDict");
        List<Integer> groupEnds = new ArrayList<>();
        for (Object g : (List<?>) call(op, optimizer, "groups")) {
            groupEnds.add((groupEnds.isEmpty() ? 0 : groupEnds.getLast()) + ((List<?>) call(op, g, "params")).size());
        }
        int params = groupEnds.isEmpty() ? 0 : groupEnds.getLast();
        for (int i = 0; i < params; i++) {
            if (state.get("state." + i + ".exp_avg") == expAvg && state.get("state." + i + ".exp_avg_sq") == expAvgSq) {
                int group = 0;
                while (i >= groupEnds.get(group)) {
                    group++;
                }
                return new AdamW(state.get("state." + i + ".step").toLongArray()[0], state.get("group." + group + ".lr").item(),
                        state.get("group." + group + ".weight_decay").item(), state.get("hparam.beta1").item(),
                        state.get("hparam.beta2").item(), state.get("hparam.eps").item());
            }
        }
        throw new UnsupportedOperationException(op + ": the optimizer's state holds no exp_avg/exp_avg_sq pair passed to this step");
    }

    /** What the kernel of op key {@code key} reads from {@code attributes} (and the inputs it identifies state by); empty when nothing. */
    static Map<String, Object> of(String key, Object attributes, Tensor[] inputs) {
        return switch (key) {
            case "rms_norm RmsNormFunction", "rms_norm.backward RmsNormFunction" -> Map.of("eps", rmsNormEps(attributes));
            case "rope RopeFunction", "rope.backward RopeFunction" -> Map.of("halfSplit", ropeHalfSplit(attributes));
            case "cross_entropy CrossEntropyFunction", "cross_entropy.backward CrossEntropyFunction" -> {
                CrossEntropy s = crossEntropy(attributes);
                yield Map.of("rows", (long) s.targets().length, "kept", s.kept(), "ignoreIndex", s.ignoreIndex(), "smoothing", s.smoothing());
            }
            case "flash_attention FlashAttentionFunction", "causal_block_attention CausalBlockAttention",
                    "flash_attention.backward FlashAttentionFunction", "causal_block_attention.backward CausalBlockAttention" -> {
                Attention s = attention(attributes);
                yield Map.of("alpha", s.alpha(), "causal", s.causal(), "queryOffset", s.queryOffset(), "documentMask", s.documentMask());
            }
            case "masked_softmax MaskedSoftmaxFunction", "masked_softmax.backward MaskedSoftmaxFunction" -> {
                MaskedSoftmax s = maskedSoftmax(attributes);
                yield Map.of("scale", s.scale(), "mask", java.util.List.of(Arrays.stream(s.allowed().shape()).boxed().toArray()));
            }
            case "AdamW.step AdamW" -> {
                AdamW s = adamw(attributes, inputs[2], inputs[3]);
                yield Map.of("step", s.step(), "lr", s.lr(), "weightDecay", s.weightDecay(), "beta1", s.beta1(), "beta2", s.beta2(),
                        "eps", s.eps());
            }
            default -> Map.of();
        };
    }

    /** Field {@code name} of {@code owner} (declared by its class or a superclass), or a one-line error naming the op. */
    static Object field(String op, Object owner, String name) {
        for (Class<?> c = owner.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(owner);
            } catch (NoSuchFieldException e) {
                // try the superclass
            } catch (IllegalAccessException | RuntimeException e) {
                throw unreadable(op, owner, name, e);
            }
        }
        throw unreadable(op, owner, name, new NoSuchFieldException(name));
    }

    /** The result of {@code owner}'s public no-argument method {@code name}, or a one-line error naming the op. */
    static Object call(String op, Object owner, String name) {
        try {
            return owner.getClass().getMethod(name).invoke(owner);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unreadable(op, owner, name + "()", e);
        }
    }

    private static UnsupportedOperationException unreadable(String op, Object owner, String what, Exception e) {
        boolean missing = e instanceof NoSuchFieldException || e instanceof NoSuchMethodException;
        return new UnsupportedOperationException(op + ": the cuda kernel cannot read " + owner.getClass().getSimpleName() + "." + what
                + " (" + e.getClass().getSimpleName() + (missing ? "" : "; on the module path open its package to dev.tessera.gpu") + ")");
    }
}
