package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Tensor;
import java.util.List;

/** Gradient clipping (G4), as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /**
     * Clips by the global L2 norm (Pascanu et al. 2013): with ‖g‖ = √(Σ_p Σ_i g_pi²) over every
     * parameter's gradient, when ‖g‖ &gt; maxNorm each gradient is scaled in place by
     * maxNorm / (‖g‖ + 1e-6). The norm is accumulated in double in the list's order, so it is
     * deterministic. Parameters without a gradient are skipped.
     *
     * @return the total norm before clipping; a NaN or infinite norm is returned as is and the
     *     gradients are left untouched (the caller decides whether to skip the step)
     */
    public static double clipGlobalNorm(List<Variable> params, double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("clipGlobalNorm: maxNorm must be finite and > 0, got " + maxNorm);
        }
        double total = totalNorm(params);
        if (!Double.isFinite(total)) {
            return total;
        }
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1) {
            for (Variable p : params) {
                Tensor g = p.grad();
                if (g == null) {
                    continue;
                }
                // in place where the memory allows it; a strided view, or a read-only mapping (a
                // gradient read from a safetensors file), gets a scaled copy instead
                if (g.isContiguous() && (g.device() != Device.CPU || !g.storage().segment().isReadOnly())) {
                    g.mulInPlace(coef);
                } else {
                    p.setGrad(g.mul(coef));
                }
            }
        }
        return total;
    }

    /**
     * √(Σ g²) over every gradient, accumulated in double in the list's order: the running sum is a
     * 0-d F64 tensor that each gradient's op carries on, on the gradients' device, read once at the end.
     */
    public static double totalNorm(List<Variable> params) {
        Tensor sumSq = Tensor.scalar(0, DType.F64);
        for (Variable p : params) {
            Tensor g = p.grad();
            if (g != null) {
                sumSq = Dispatch.run("sum_squares_f64", null, in -> {
                    Buf b = Buf.read(in[0]);
                    double s = in[1].item();
                    for (int i = 0; i < b.n; i++) {
                        double v = b.get(i);
                        s += v * v;
                    }
                    return Tensor.scalar(s, DType.F64);
                }, g, sumSq);
            }
        }
        return Math.sqrt(sumSq.item());
    }
}
