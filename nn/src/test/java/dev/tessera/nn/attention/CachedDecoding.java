package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;

/**
 * Test support for kernels decoded through the KV cache: feeding one query at a time with the keys
 * so far (queryOffset = S − 1) gives the full causal forward's rows, with and without a document mask.
 */
final class CachedDecoding {
    private CachedDecoding() {}

    /** B 2, H 2, T 6, D 4 seeded inputs; two documents per row under the document mask. */
    static void assertCachedEqualsFull(AttentionKernel kernel) {
        int t = 6;
        Tensor ids = Tensor.of(new long[] {0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1}, 2, t);
        for (AttentionMask mask : new AttentionMask[] {AttentionMask.causalOnly(), new AttentionMask(true, ids, 0)}) {
            Variable q = Variable.constant(AttentionReference.randn(21, 1, 2, 2, t, 4));
            Variable k = Variable.constant(AttentionReference.randn(22, 1, 2, 2, t, 4));
            Variable v = Variable.constant(AttentionReference.randn(23, 1, 2, 2, t, 4));
            Tensor full = kernel.attend(q, k, v, mask).data(); // (B, H, T, D)
            for (int p = 0; p < t; p++) {
                Variable kp = Variable.constant(k.data().narrow(2, 0, p + 1).contiguous());
                Variable vp = Variable.constant(v.data().narrow(2, 0, p + 1).contiguous());
                Variable qp = Variable.constant(q.data().narrow(2, p, 1).contiguous());
                AttentionMask cached = mask.documentIds() == null ? mask.forCachedKeys(1, p + 1)
                        : new AttentionMask(true, ids.narrow(1, 0, p + 1).contiguous(), p);
                Tensor step = kernel.attend(qp, kp, vp, cached).data();
                AttentionReference.assertClose(full.narrow(2, p, 1).contiguous(), step, 1e-12);
            }
        }
    }
}
