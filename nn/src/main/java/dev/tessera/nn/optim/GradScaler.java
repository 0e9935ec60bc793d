package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamic loss scaling (G9), the half of mixed precision that keeps F16 gradients from flushing to
 * zero (Micikevicius et al. 2018, Mixed Precision Training, section 3.2), as
 * {@code torch.amp.GradScaler('cpu')}. The loss is multiplied by a scale S before backward, so small
 * gradients survive F16's narrow range; the gradients are divided by S again before clipping and the
 * step. The schedule, with PyTorch's defaults S₀ = 65536, growth γ = 2, backoff β = 0.5 and interval
 * N = 2000:
 *
 * <pre>
 *   some gradient inf or NaN:  skip the optimizer step,  S ← β·S,  good ← 0
 *   otherwise:                 step,  good ← good + 1;  if good = N:  S ← γ·S (kept if that overflows F32),  good ← 0
 * </pre>
 *
 * S is held as an F32 value, as PyTorch holds it. One iteration: {@code scale(loss).backward()},
 * optionally {@link #unscale} (before clipping), {@link #step}, {@link #update}.
 */
public final class GradScaler {
    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private float scale;
    private int growthTracker;
    /** This iteration's unscale: not yet (null), or whether it found an inf or NaN. */
    private Boolean foundInf;

    /** PyTorch's defaults: init 65536, growth 2, backoff 0.5, interval 2000. */
    public GradScaler() {
        this(65536, 2.0, 0.5, 2000);
    }

    public GradScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval) {
        if (!(initScale > 0) || !Float.isFinite((float) initScale) || !(growthFactor > 1) || !Double.isFinite(growthFactor)
                || !(backoffFactor > 0 && backoffFactor < 1) || growthInterval <= 0) {
            throw new IllegalArgumentException("GradScaler: need a finite init scale > 0, growth > 1, 0 < backoff < 1 and interval > 0, got "
                    + initScale + ", " + growthFactor + ", " + backoffFactor + ", " + growthInterval);
        }
        this.scale = (float) initScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    /** The current loss scale S. */
    public double scale() {
        return scale;
    }

    /** Good steps since the scale last changed. */
    public int growthTracker() {
        return growthTracker;
    }

    /** loss · S, the value to call backward on. */
    public Variable scale(Variable loss) {
        return loss.mul(scale);
    }

    /**
     * Divides every gradient of {@code optimizer}'s parameters by S in place (multiplying by the F32
     * reciprocal, as PyTorch does) and returns whether any of them holds an inf or NaN. Once per
     * iteration: a second call before {@link #update} is refused, since it would divide twice.
     */
    public boolean unscale(Optimizer optimizer) {
        if (foundInf != null) {
            throw new IllegalStateException("GradScaler.unscale: already called since the last update()");
        }
        double inverse = (float) (1.0 / scale);
        boolean inf = false;
        for (Variable p : optimizer.params()) {
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            if (g.isContiguous() && (g.device() != Device.CPU || !g.storage().segment().isReadOnly())) { // as GradClip: in place where writable
                g.mulInPlace(inverse);
            } else {
                g = g.mul(inverse);
                p.setGrad(g);
            }
            inf |= !allFinite(g);
        }
        foundInf = inf;
        return inf;
    }

    /** Unscales if {@link #unscale} was not called, then steps {@code optimizer} unless a gradient was inf or NaN; returns whether it stepped. */
    public boolean step(Optimizer optimizer) {
        if (foundInf == null) {
            unscale(optimizer);
        }
        if (foundInf) {
            return false;
        }
        optimizer.step();
        return true;
    }

    /** Applies the schedule for this iteration (backoff after an inf or NaN, growth after N good steps) and starts the next. */
    public void update() {
        if (foundInf == null) {
            throw new IllegalStateException("GradScaler.update: no unscale() or step() since the last update()");
        }
        if (foundInf) {
            scale = (float) (scale * backoffFactor);
            growthTracker = 0;
        } else if (growthTracker + 1 == growthInterval) {
            float grown = (float) (scale * growthFactor);
            scale = Float.isFinite(grown) ? grown : scale;
            growthTracker = 0;
        } else {
            growthTracker++;
        }
        foundInf = null;
    }

    /** Forgets this iteration's unscale without touching the schedule: for a caller that throws the iteration away. */
    public void discardIteration() {
        foundInf = null;
    }

    /** As PyTorch's state_dict: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker. */
    public Map<String, Double> stateDict() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put("scale", (double) scale);
        s.put("growth_factor", growthFactor);
        s.put("backoff_factor", backoffFactor);
        s.put("growth_interval", (double) growthInterval);
        s.put("_growth_tracker", (double) growthTracker);
        return s;
    }

    /**
     * Restores the scale and growth tracker saved by {@link #stateDict}; the factors and interval
     * must equal this scaler's (they are configuration, not state). Forgets any unscale in progress.
     */
    public void loadStateDict(Map<String, Double> state) {
        for (String key : List.of("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")) {
            if (state.get(key) == null) {
                throw new IllegalArgumentException("GradScaler.loadStateDict: missing key '" + key + "' (has " + state.keySet() + ")");
            }
        }
        double s = state.get("scale");
        double tracker = state.get("_growth_tracker");
        if (!(s > 0) || !Float.isFinite((float) s) || !(tracker >= 0 && tracker < growthInterval && tracker == Math.rint(tracker))) {
            throw new IllegalArgumentException("GradScaler.loadStateDict: need a finite scale > 0 and a whole growth tracker in [0, "
                    + growthInterval + "), got " + s + ", " + tracker);
        }
        if (state.get("growth_factor") != growthFactor || state.get("backoff_factor") != backoffFactor
                || state.get("growth_interval") != growthInterval) {
            throw new IllegalArgumentException("GradScaler.loadStateDict: saved growth/backoff/interval " + state.get("growth_factor") + "/"
                    + state.get("backoff_factor") + "/" + state.get("growth_interval") + " differ from this scaler's " + growthFactor + "/"
                    + backoffFactor + "/" + growthInterval);
        }
        scale = (float) s;
        growthTracker = (int) tracker;
        foundInf = null;
    }

    /** Whether every element of g is finite, read once on g's device. */
    private static boolean allFinite(Tensor g) {
        Tensor ok = Dispatch.run("all_finite", null, in -> {
            Buf b = Buf.read(in[0]);
            for (int i = 0; i < b.n; i++) {
                if (!Double.isFinite(b.get(i))) {
                    return Tensor.scalar(0, DType.F64);
                }
            }
            return Tensor.scalar(1, DType.F64);
        }, g);
        return ok.item() == 1;
    }
}
