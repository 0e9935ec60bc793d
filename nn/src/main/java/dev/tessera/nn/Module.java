package dev.tessera.nn;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A tree of named parameters, buffers and submodules, as torch.nn.Module. Names join with dots
 * in registration order, so a model registering {@code model → layers → 0 → self_attn → q_proj}
 * exposes {@code model.layers.0.self_attn.q_proj.weight}, the Hugging Face checkpoint name.
 * A parameter shared by two modules (tied embeddings, ALBERT sharing) is listed once, under the
 * first name that reached it.
 */
public abstract class Module {
    private final Map<String, Variable> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Boolean> persistent = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Registers a trainable parameter (a leaf that requires grad) and returns it. */
    protected final Variable parameter(String name, Tensor initial) {
        checkName(name);
        Variable p = Variable.of(initial, true).named(name);
        parameters.put(name, p);
        return p;
    }

    /** Registers an existing parameter under another name here (weight tying / sharing). */
    protected final Variable shareParameter(String name, Variable existing) {
        checkName(name);
        parameters.put(name, existing);
        return existing;
    }

    /** Registers a buffer: state that is not trained; persistent buffers are saved in the state dict. */
    protected final Tensor buffer(String name, Tensor value, boolean persistentBuffer) {
        checkName(name);
        buffers.put(name, value);
        persistent.put(name, persistentBuffer);
        return value;
    }

    /** Replaces a buffer; the new value goes to the old one's device, so a module moved by {@link #to} stays there. */
    protected final void setBuffer(String name, Tensor value) {
        if (!buffers.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no buffer named '" + name + "'");
        }
        Tensor old = buffers.get(name);
        buffers.put(name, old == null || value == null ? value : value.to(old.device()));
    }

    protected final Tensor getBuffer(String name) {
        return buffers.get(name);
    }

    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": invalid member name '" + name + "'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": member '" + name + "' already registered");
        }
    }

    public Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** Every parameter with its dotted name, each shared parameter once. */
    public Map<String, Variable> namedParameters() {
        Map<String, Variable> out = new LinkedHashMap<>();
        collectParameters("", out, new IdentityHashMap<>());
        return out;
    }

    private void collectParameters(String prefix, Map<String, Variable> out, IdentityHashMap<Variable, Boolean> seen) {
        for (var e : parameters.entrySet()) {
            if (seen.put(e.getValue(), Boolean.TRUE) == null) {
                out.put(prefix + e.getKey(), e.getValue());
            }
        }
        for (var e : children.entrySet()) {
            e.getValue().collectParameters(prefix + e.getKey() + ".", out, seen);
        }
    }

    public List<Variable> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Named persistent buffers, dotted like parameters. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, Tensor> out) {
        for (var e : buffers.entrySet()) {
            if (persistent.get(e.getKey())) {
                out.put(prefix + e.getKey(), e.getValue());
            }
        }
        for (var e : children.entrySet()) {
            e.getValue().collectBuffers(prefix + e.getKey() + ".", out);
        }
    }

    /** Total number of trainable scalars (shared parameters counted once). */
    public long parameterCount() {
        long n = 0;
        for (Variable p : parameters()) {
            n += p.data().numel();
        }
        return n;
    }

    /** Parameters' and persistent buffers' tensors by name (the tensors themselves, not copies). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> out.put(k, v.data()));
        out.putAll(namedBuffers());
        return out;
    }

    /**
     * Copies tensors into this module's parameters and buffers by name. Strict loading requires
     * exactly the same names; shapes must always match. Errors list every missing and unexpected key.
     */
    public void loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        TreeSet<String> missing = new TreeSet<>(own.keySet());
        missing.removeAll(state.keySet());
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(own.keySet());
        if (strict && (!missing.isEmpty() || !unexpected.isEmpty())) {
            throw new IllegalArgumentException("loadStateDict: missing keys " + missing + ", unexpected keys " + unexpected);
        }
        List<String> mismatched = new ArrayList<>();
        for (var e : state.entrySet()) {
            Tensor target = own.get(e.getKey());
            if (target != null && !Arrays.equals(target.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + " " + Arrays.toString(e.getValue().shape()) + " vs " + Arrays.toString(target.shape()));
            }
        }
        if (!mismatched.isEmpty()) {
            throw new IllegalArgumentException("loadStateDict: shape mismatch (given vs expected) for " + mismatched);
        }
        for (var e : state.entrySet()) {
            Tensor target = own.get(e.getKey());
            if (target != null) {
                target.copyFromInPlace(e.getValue());
            }
        }
    }

    public final Module train() {
        return setTraining(true);
    }

    public final Module eval() {
        return setTraining(false);
    }

    public Module setTraining(boolean on) {
        training = on;
        for (Module m : children.values()) {
            m.setTraining(on);
        }
        return this;
    }

    public boolean isTraining() {
        return training;
    }

    /** Calls {@code fn} on every submodule (children first, as PyTorch's apply) and then this one. */
    public Module apply(Consumer<Module> fn) {
        for (Module m : children.values()) {
            m.apply(fn);
        }
        fn.accept(this);
        return this;
    }

    /**
     * Moves every parameter (in place: optimizers keep theirs) and every buffer of this module and its
     * submodules to {@code device}, as PyTorch's {@code module.to(device)}; returns this module.
     */
    public Module to(Device device) {
        for (Variable p : parameters()) {
            p.moveTo(device);
        }
        return apply(m -> m.buffers.replaceAll((name, t) -> t == null ? null : t.to(device)));
    }

    public void zeroGrad() {
        for (Variable p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Direct parameters of this module by local name (for initialisers applied through {@link #apply}). */
    public Map<String, Variable> localParameters() {
        return java.util.Collections.unmodifiableMap(parameters);
    }
}
