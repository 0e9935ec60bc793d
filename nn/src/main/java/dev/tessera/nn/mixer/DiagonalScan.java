package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Tensor;

/**
 * The complex diagonal linear recurrence shared by the diagonal state spaces (E10 S4D and S5, E11 LRU):
 * x_t = a_t ⊙ x_{t−1} + b_t along dim 1 (time) of (B, T, …) tensors held as {real, imaginary}
 * parts, as a Hillis–Steele parallel scan (Blelloch 1990's associative operator
 * (a, b) ∘ (a', b') = (a·a', a·b' + b) applied log₂T times), so training costs log₂T elementwise
 * steps instead of T, and every step stays in the autograd graph.
 *
 * <p>The coefficient is time-invariant (a broadcasting over (B, T), squared each step: a^d) unless
 * packed documents restart the recurrence: then a_t is zeroed where a document starts and the scan
 * carries the products a_t·a_{t−d} instead.
 */
final class DiagonalScan {
    private DiagonalScan() {}

    /**
     * The states x (B, T, …) as {re, im} from the inputs b (B, T, …), the coefficient a (broadcasting
     * against b without a time dim of its own), {@code carry} (B, T, 1, …) of 1 and 0 at document
     * starts or null, and {@code held} = x_{−1} (B, 1, …) as {re, im} or null for the zero state.
     */
    static Variable[] scan(Variable bRe, Variable bIm, Variable aRe, Variable aIm, Tensor carry, Tensor[] held) {
        int t = bRe.size(1);
        Variable re = bRe;
        Variable im = bIm;
        if (held != null) { // x_0 = a x_{−1} + b_0: fold the carried state into the first step
            Variable hRe = Variable.constant(held[0]);
            Variable hIm = Variable.constant(held[1]);
            Variable firstRe = re.narrow(1, 0, 1).add(mulRe(aRe, aIm, hRe, hIm));
            Variable firstIm = im.narrow(1, 0, 1).add(mulIm(aRe, aIm, hRe, hIm));
            re = t == 1 ? firstRe : Variable.cat(1, firstRe, re.narrow(1, 1, t - 1));
            im = t == 1 ? firstIm : Variable.cat(1, firstIm, im.narrow(1, 1, t - 1));
        }
        if (carry != null) {
            aRe = aRe.mul(Variable.constant(carry));
            aIm = aIm.mul(Variable.constant(carry));
        }
        for (int step = 1; step < t; step *= 2) {
            Variable sRe = shift(re, step);
            Variable sIm = shift(im, step);
            Variable nRe = re.add(mulRe(aRe, aIm, sRe, sIm));
            im = im.add(mulIm(aRe, aIm, sRe, sIm));
            re = nRe;
            Variable pRe = carry == null ? aRe : shift(aRe, step);
            Variable pIm = carry == null ? aIm : shift(aIm, step);
            Variable nextRe = mulRe(aRe, aIm, pRe, pIm);
            aIm = mulIm(aRe, aIm, pRe, pIm);
            aRe = nextRe;
        }
        return new Variable[] {re, im};
    }

    /** The last step's state x_{T−1} (B, 1, …) of {@code x} as {re, im}, detached, for a {@link MixerState}. */
    static Tensor[] last(Variable[] x) {
        int t = x[0].size(1);
        return new Tensor[] {x[0].data().narrow(1, t - 1, 1).copy(), x[1].data().narrow(1, t - 1, 1).copy()};
    }

    /** x delayed by {@code k} along time (dim 1), zeros in front. */
    static Variable shift(Variable x, int k) {
        int[] shape = x.shape();
        int t = shape[1];
        shape[1] = k;
        return Variable.cat(1, OnDevice.zeros(x, shape), x.narrow(1, 0, t - k));
    }

    static Variable mulRe(Variable aRe, Variable aIm, Variable bRe, Variable bIm) {
        return aRe.mul(bRe).sub(aIm.mul(bIm));
    }

    static Variable mulIm(Variable aRe, Variable aIm, Variable bRe, Variable bIm) {
        return aRe.mul(bIm).add(aIm.mul(bRe));
    }

    /**
     * The zero-order-hold discretisation of dx/dt = λ x + u with step Δ (Gu et al. 2022 §2,
     * Smith et al. 2023 §2): λ̄ = exp(λΔ) and the input factor (λ̄ − 1)/λ, as {λ̄re, λ̄im, fre, fim}
     * from λ = (re, im) and Δ, all broadcasting alike.
     */
    static Variable[] zeroOrderHold(Variable lamRe, Variable lamIm, Variable dt) {
        Variable mod = lamRe.mul(dt).exp();
        Variable phase = lamIm.mul(dt);
        Variable barRe = mod.mul(phase.cos());
        Variable barIm = mod.mul(phase.sin());
        // (p + iq)/(a + ib) = ((pa + qb) + i(qa − pb)) / (a² + b²), p + iq = λ̄ − 1
        Variable p = barRe.sub(1);
        Variable norm = lamRe.square().add(lamIm.square());
        Variable fRe = p.mul(lamRe).add(barIm.mul(lamIm)).div(norm);
        Variable fIm = barIm.mul(lamRe).sub(p.mul(lamIm)).div(norm);
        return new Variable[] {barRe, barIm, fRe, fIm};
    }
}
