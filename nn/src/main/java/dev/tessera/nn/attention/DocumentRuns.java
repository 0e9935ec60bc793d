package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Support for causal kernels with a chunked, state-carrying form (RetNet retention, FLASH): their
 * state must restart at each document's first position, and with a KV cache the T queries are the
 * last T of the S key positions. So the queries are padded to S, each batch row is cut into its
 * document runs, the kernel's run function sees one run at a time, and the last T outputs are kept.
 */
final class DocumentRuns {
    private DocumentRuns() {}

    /** One document run: inputs narrowed to positions [from, from + L) → output (…, L, Dv). */
    interface Run {
        Variable apply(Variable[] run, int from);
    }

    /** q (B, H, T, D) preceded by S − T zero rows, (B, H, S, D): no output is wanted before the queries. */
    static Variable padQueries(Variable q, int s) {
        int t = q.size(2);
        return t == s ? q : Variable.cat(2, OnDevice.zeros(q, q.size(0), q.size(1), s - t, q.size(3)), q);
    }

    /**
     * Applies {@code run} to each document run of each batch row (one run over all S positions
     * without a document mask) of {@code inputs} (B, H, S, ·), and returns the last T positions of
     * the concatenated outputs (B, H, T, Dv). Documents must be contiguous runs, and the mask's
     * queryOffset S − T.
     */
    static Variable apply(String op, AttentionMask mask, int t, Variable[] inputs, Run run) {
        int bsz = inputs[0].size(0), s = inputs[0].size(2);
        if (mask.queryOffset() != s - t) {
            throw new IllegalArgumentException(op + ": the chunked form needs the queries at the last T of S positions; got queryOffset "
                    + mask.queryOffset() + " for T " + t + ", S " + s);
        }
        int rows = mask.documentIds() == null ? 1 : bsz;
        Variable[] outs = new Variable[rows];
        for (int r = 0; r < rows; r++) {
            long[] doc = KernelSupport.documentRow(mask, r);
            int[] starts = doc == null ? new int[] {0} : LinearAttentionSums.documentRuns(op, doc, r);
            List<Variable> parts = new ArrayList<>();
            for (int i = 0; i < starts.length; i++) {
                int from = starts[i], len = (i + 1 < starts.length ? starts[i + 1] : s) - from;
                Variable[] part = new Variable[inputs.length];
                for (int j = 0; j < inputs.length; j++) {
                    part[j] = (rows == 1 ? inputs[j] : inputs[j].narrow(0, r, 1)).narrow(2, from, len);
                }
                parts.add(run.apply(part, from));
            }
            outs[r] = parts.size() == 1 ? parts.get(0) : Variable.cat(2, parts.toArray(Variable[]::new)); // (1|B, H, S, Dv)
        }
        Variable out = rows == 1 ? outs[0] : Variable.cat(0, outs); // (B, H, S, Dv)
        return t < s ? out.narrow(2, s - t, t) : out; // (B, H, T, Dv)
    }
}
