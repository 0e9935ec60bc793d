package dev.tessera.nn.optim;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Base of the optimizers, as torch.optim.Optimizer: parameter groups (each with its own learning
 * rate and weight decay), per-parameter state created at a parameter's first step, and a state
 * dict of plain tensors so optimizer state saves through the same safetensors / state-dict path as
 * weights.
 *
 * <p>{@link #step()} runs with grad recording off and updates {@code p.data()} in place (bumping
 * its storage version). Parameters whose gradient is null are skipped and their step counts do not
 * advance. Parameters are numbered across groups in order, as in PyTorch's state_dict.
 *
 * <p>State-dict keys: {@code hparam.<name>} (0-d F64: betas, eps, ...), {@code group.<g>.lr},
 * {@code group.<g>.weight_decay} and {@code group.<g>.<scalar>} (0-d F64), {@code state.<i>.step}
 * (0-d I64) and {@code state.<i>.<buffer>} (the parameter's shape, e.g. {@code state.0.exp_avg}).
 * The returned tensors are the live state, not copies; {@link #loadStateDict} copies.
 *
 * <p>Arithmetic is per element in double, rounded to the state's type (F64 for F64 parameters,
 * F32 otherwise); parameters of other types or layouts are updated through an F32 working copy.
 */
public abstract class Optimizer {
    /** Elements per parallel chunk of an update (fixed, so results never depend on the thread count). */
    private static final int GRAIN = 1 << 15;
    private final String name;
    private final List<ParamGroup> groups;
    private final List<Variable> params = new ArrayList<>();
    private final ParamState[] states;
    private final Map<String, Double> hyper = new LinkedHashMap<>();

    /** Per-parameter state: the step count and named buffers shaped like the parameter. */
    protected static final class ParamState {
        long step;
        final Map<String, Tensor> tensors = new LinkedHashMap<>();

        /** Number of steps this parameter has taken, counting the current one inside an update. */
        public long step() {
            return step;
        }

        public Tensor tensor(String key) {
            return tensors.get(key);
        }

        Buf buf(String key) {
            return Buf.of(tensors.get(key));
        }
    }

    protected Optimizer(String name, List<ParamGroup> groups, double defaultLr, double defaultWeightDecay) {
        this.name = name;
        if (groups.isEmpty()) {
            throw new IllegalArgumentException(name + ": needs at least one parameter group");
        }
        check(defaultLr >= 0 && !Double.isInfinite(defaultLr), "learning rate must be finite and >= 0, got " + defaultLr);
        check(defaultWeightDecay >= 0 && !Double.isInfinite(defaultWeightDecay),
                "weight decay must be finite and >= 0, got " + defaultWeightDecay);
        IdentityHashMap<Variable, Integer> seen = new IdentityHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            group.setLr(Double.isNaN(group.lr()) ? defaultLr : group.lr());
            group.setWeightDecay(Double.isNaN(group.weightDecay()) ? defaultWeightDecay : group.weightDecay());
            for (Variable p : group.params()) {
                Integer before = seen.put(p, g);
                if (before != null) {
                    throw new IllegalArgumentException(name + ": a parameter appears twice (groups " + before + " and " + g + ")");
                }
                params.add(p);
            }
        }
        this.groups = Collections.unmodifiableList(new ArrayList<>(groups));
        this.states = new ParamState[params.size()];
    }

    /** Throws a one-line {@link IllegalArgumentException} naming this optimizer unless {@code ok}. */
    protected final void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(name + ": " + message);
        }
    }

    /** Declares a hyperparameter (saved as {@code hparam.<key>}); read it back with {@link #hp}. */
    protected final void defineHyper(String key, double value) {
        hyper.put(key, value);
    }

    protected final double hp(String key) {
        return hyper.get(key);
    }

    // ------------------------------------------------------------------ what subclasses provide

    /** Creates a parameter's state buffers at its first step. */
    protected abstract void initState(ParamGroup group, Variable p, ParamState state);

    /**
     * Updates elements [from, to) of one parameter in place. {@code p} views the parameter (or its
     * working copy), {@code g} its gradient; {@code state.step()} already counts this step. Chunks
     * of one parameter may run in parallel, so an update must be purely elementwise.
     */
    abstract void update(ParamGroup group, ParamState state, Buf p, Buf g, int from, int to);

    /** Called once per group before its parameters update (group-level schedule arithmetic). */
    protected void beginGroup(ParamGroup group) {}

    /** Called once per group after its parameters updated. */
    protected void endGroup(ParamGroup group) {}

    // ------------------------------------------------------------------ stepping

    /** One update of every parameter that has a gradient. */
    public void step() {
        try (var scope = GradMode.noGrad()) {
            int index = 0;
            for (ParamGroup group : groups) {
                beginGroup(group);
                for (Variable p : group.params()) {
                    int i = index++;
                    Tensor grad = p.grad();
                    if (grad == null) {
                        continue;
                    }
                    ParamState st = states[i];
                    if (st == null) {
                        st = states[i] = new ParamState();
                        initState(group, p, st);
                    }
                    st.step++;
                    ParamState s = st;
                    mutate("step", p, grad, s, (buf, g) -> {
                        int chunks = Parallel.chunkCount(buf.n, GRAIN);
                        Parallel.forEachChunk(chunks, c -> update(group, s, buf, g, c * GRAIN, Math.min(buf.n, (c + 1) * GRAIN)));
                    });
                }
                endGroup(group);
            }
        }
    }

    /**
     * Runs {@code fn} on a writable view of {@code p}'s data (a working copy written back when not
     * direct) and a readable view of {@code grad} (null when there is none), as one op dispatched by
     * the parameter's device and named {@code <optimizer>.<op>}: the state's tensors are the kernel's
     * views of them while it runs, so the update loops never see device memory.
     */
    final void mutate(String op, Variable p, Tensor grad, ParamState state, BiConsumer<Buf, Buf> fn) {
        List<String> keys = new ArrayList<>(state.tensors.keySet());
        Tensor[] inputs = new Tensor[2 + keys.size()];
        inputs[0] = p.data();
        inputs[1] = grad;
        for (int k = 0; k < keys.size(); k++) {
            inputs[2 + k] = state.tensors.get(keys.get(k));
        }
        Dispatch.run(name + "." + op, this, in -> {
            Map<String, Tensor> own = new LinkedHashMap<>(state.tensors);
            for (int k = 0; k < keys.size(); k++) {
                state.tensors.put(keys.get(k), in[2 + k]);
            }
            try {
                Tensor data = in[0];
                boolean direct = Buf.direct(data);
                Tensor work = direct ? data : Buf.workCopy(data);
                fn.accept(Buf.of(work), in[1] == null ? null : Buf.read(in[1]));
                if (direct) {
                    data.storage().bumpVersion();
                } else {
                    data.copyFromInPlace(work);
                }
            } finally {
                state.tensors.putAll(own);
            }
            return null;
        }, inputs);
    }

    /** Clears every parameter's gradient (sets it to null, as PyTorch's set_to_none default). */
    public void zeroGrad() {
        for (Variable p : params) {
            p.zeroGrad();
        }
    }

    /** Sets every group's learning rate (what an {@link LrSchedule} calls each step). */
    public void setLr(double lr) {
        for (ParamGroup g : groups) {
            g.setLr(lr);
        }
    }

    public void setLr(int group, double lr) {
        groups.get(group).setLr(lr);
    }

    /** The first group's learning rate. */
    public double lr() {
        return groups.get(0).lr();
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** Every parameter, numbered as in the state dict. */
    public List<Variable> params() {
        return Collections.unmodifiableList(params);
    }

    /** Calls {@code fn} on each parameter of {@code group} that has state. */
    protected final void forEachWithState(ParamGroup group, BiConsumer<Variable, ParamState> fn) {
        int index = 0;
        for (ParamGroup g : groups) {
            for (Variable p : g.params()) {
                int i = index++;
                if (g == group && states[i] != null) {
                    fn.accept(p, states[i]);
                }
            }
        }
    }

    /** A zero buffer shaped like {@code p} in the state's type. */
    protected static Tensor zerosLike(Variable p) {
        return Tensor.zeros(p.data().device(), Buf.workType(p.dtype()), p.shape());
    }

    /** A copy of {@code p}'s values in the state's type. */
    protected static Tensor copyOf(Variable p) {
        return Buf.workCopy(p.data());
    }

    // ------------------------------------------------------------------ state dict

    /** The state as named tensors (see the class comment for the keys). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hyper.forEach((k, v) -> out.put("hparam." + k, Tensor.scalar(v, DType.F64)));
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            out.put("group." + g + ".lr", Tensor.scalar(group.lr(), DType.F64));
            out.put("group." + g + ".weight_decay", Tensor.scalar(group.weightDecay(), DType.F64));
            for (var e : group.scalars().entrySet()) {
                out.put("group." + g + "." + e.getKey(), Tensor.scalar(e.getValue(), DType.F64));
            }
        }
        for (int i = 0; i < states.length; i++) {
            if (states[i] != null) {
                out.put("state." + i + ".step", Tensor.scalar(states[i].step, DType.I64));
                for (var e : states[i].tensors.entrySet()) {
                    out.put("state." + i + "." + e.getKey(), e.getValue());
                }
            }
        }
        return out;
    }

    /** The buffer names one parameter's state holds (besides {@code step}). */
    protected abstract List<String> stateNames();

    /**
     * Restores state saved by {@link #stateDict} from an optimizer of the same kind over parameters
     * of the same shapes. Strict: every key must be expected and every expected key present; all
     * keys are checked before anything changes.
     */
    public void loadStateDict(Map<String, Tensor> state) {
        Map<String, int[]> expected = new LinkedHashMap<>();
        for (String k : hyper.keySet()) {
            expected.put("hparam." + k, new int[0]);
        }
        for (int g = 0; g < groups.size(); g++) {
            expected.put("group." + g + ".lr", new int[0]);
            expected.put("group." + g + ".weight_decay", new int[0]);
            for (String k : groups.get(g).scalars().keySet()) {
                expected.put("group." + g + "." + k, new int[0]);
            }
        }
        boolean[] has = new boolean[states.length];
        for (int i = 0; i < states.length; i++) {
            String prefix = "state." + i + ".";
            for (String k : state.keySet()) {
                has[i] |= k.startsWith(prefix);
            }
            if (has[i]) {
                expected.put(prefix + "step", new int[0]);
                for (String s : stateNames()) {
                    expected.put(prefix + s, params.get(i).shape());
                }
            }
        }
        TreeSet<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(state.keySet());
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(expected.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException(name + ".loadStateDict: missing keys " + missing + ", unexpected keys " + unexpected);
        }
        List<String> mismatched = new ArrayList<>();
        for (var e : expected.entrySet()) {
            Tensor t = state.get(e.getKey());
            boolean ok = e.getValue().length == 0 ? t.numel() == 1 : Arrays.equals(t.shape(), e.getValue());
            if (!ok) {
                mismatched.add(e.getKey() + " " + Arrays.toString(t.shape()) + " vs " + Arrays.toString(e.getValue()));
            }
        }
        if (!mismatched.isEmpty()) {
            throw new IllegalArgumentException(name + ".loadStateDict: shape mismatch (given vs expected) for " + mismatched);
        }
        for (String k : hyper.keySet()) {
            hyper.put(k, state.get("hparam." + k).item());
        }
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            group.setLr(state.get("group." + g + ".lr").item());
            group.setWeightDecay(state.get("group." + g + ".weight_decay").item());
            for (var e : group.scalars().entrySet()) {
                e.setValue(state.get("group." + g + "." + e.getKey()).item());
            }
        }
        for (int i = 0; i < states.length; i++) {
            if (!has[i]) {
                states[i] = null;
                continue;
            }
            ParamState st = new ParamState();
            st.step = state.get("state." + i + ".step").reshape().getLong();
            for (String s : stateNames()) {
                st.tensors.put(s, zerosLike(params.get(i)).copyFromInPlace(state.get("state." + i + "." + s)));
            }
            states[i] = st;
        }
    }

    @Override
    public String toString() {
        return name + hyper + " over " + params.size() + " parameters in " + groups.size() + " groups";
    }
}
