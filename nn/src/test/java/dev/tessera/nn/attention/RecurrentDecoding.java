package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;

/** Test support for kernels with a recurrent form: decoding token by token equals the full causal output. */
final class RecurrentDecoding {
    private RecurrentDecoding() {}

    /** One decoding step of a kernel's state: q, k (B, H, 1, D), v (B, H, 1, Dv) → (B, H, 1, Dv). */
    interface Step {
        Tensor apply(Tensor q, Tensor k, Tensor v);
    }

    /**
     * Each step's output equals the full causal form's row, and so do the queries from {@code tailFrom}
     * on attending over all keys with queryOffset = tailFrom (the KV-cache form).
     */
    static void assertStepsEqualFull(AttentionKernel kernel, Tensor q, Tensor k, Tensor v, int tailFrom, double tol, Step step) {
        int t = q.size(2);
        Tensor full = kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), AttentionMask.causalOnly()).data();
        for (int i = 0; i < t; i++) {
            Tensor out = step.apply(q.narrow(2, i, 1), k.narrow(2, i, 1), v.narrow(2, i, 1));
            assertEquals(q.dtype(), out.dtype());
            AttentionReference.assertClose(full.narrow(2, i, 1).contiguous(), out, tol);
        }
        Variable tail = kernel.attend(Variable.constant(q.narrow(2, tailFrom, t - tailFrom)), Variable.constant(k), Variable.constant(v),
                new AttentionMask(true, null, tailFrom));
        AttentionReference.assertClose(full.narrow(2, tailFrom, t - tailFrom).contiguous(), tail.data(), tol);
    }
}
