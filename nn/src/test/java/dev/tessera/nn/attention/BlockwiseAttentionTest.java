package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.BlockwiseAttention.Options;
import dev.tessera.nn.block.BlockStyle;
import dev.tessera.nn.block.TokenEmbedding;
import dev.tessera.nn.block.TransformerBlock;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BlockwiseAttentionTest {

    /** BlockBERT's blocks, built as lists: head h's queries of block i see the positions of block (i + k_h) mod n. */
    static int reference(int[] shifts, int n, int h, int i, int j, int keys) {
        List<List<Integer>> blocks = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            List<Integer> block = new ArrayList<>();
            for (int p = b * keys / n; p < (b + 1) * keys / n; p++) {
                block.add(p);
            }
            blocks.add(block);
        }
        int mine = 0;
        while (!blocks.get(mine).contains(i)) {
            mine++;
        }
        return blocks.get((mine + shifts[h % shifts.length]) % n).contains(j) ? 1 : 0;
    }

    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 3) int blockSize,
            @ForAll @IntRange(min = 0, max = 2) int fewerQueries, @ForAll @IntRange(min = 1, max = 4) int d,
            @ForAll boolean documents, @ForAll boolean uneven, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = n * blockSize;
        int t = Math.max(1, s - fewerQueries);
        int[] shifts = uneven ? new int[] {0, 0, n - 1} : new int[] {0, 1, 2, 3};
        String given = uneven ? "0,0," + (n - 1) : "";
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(documents ? 2 : 0, b, t, s, seed);
        double[] expected = SparsePatternReference.zeroNaN(SparsePatternReference.attend(q, k, v, mask,
                (hh, i, j, keys) -> reference(shifts, n, hh, i, j, keys)));
        Variable out = new BlockwiseAttention(new Options(n, given)).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** n = 2 over 4 positions: head 0 attends within its block, head 1 to the other block (the paper's Figure 2). */
    @Test
    void headsSeeTheirPermutedBlock() {
        BlockwiseAttention a = new BlockwiseAttention(new Options(2));
        StringBuilder sb = new StringBuilder();
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    sb.append(a.sees(h, i, j, 4) ? '1' : '.');
                }
                sb.append(i == 3 ? "\n" : " ");
            }
        }
        assertEquals("11.. 11.. ..11 ..11\n..11 ..11 11.. 11..\n", sb.toString());
    }

    @Test
    void finiteDifferenceGradients() {
        SparsePatternReference.gradCheck(new BlockwiseAttention(new Options(3)), 3, 6, 6, 0, 2); // no causal masks
    }

    @Test
    void refusesCausalMasksAndUnevenBlocks() {
        BlockwiseAttention kernel = new BlockwiseAttention(new Options(2));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        assertEquals("BlockwiseAttention: bidirectional only (shifted blocks look ahead); got a causal mask",
                assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly())).getMessage());
        Variable odd = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 5, 2));
        assertEquals("BlockwiseAttention: the 5 keys do not split into 2 equal blocks",
                assertThrows(IllegalArgumentException.class, () -> kernel.attend(odd, odd, odd, AttentionMask.NONE)).getMessage());
        assertEquals("attention blockwise: option shifts must lie in [0, blocks = 2), got '0,2'",
                assertThrows(IllegalArgumentException.class, () -> new Options(2, "0, 2")).getMessage());
        assertEquals("attention blockwise: option shifts must be comma-separated integers, got '0,x'",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.BLOCKWISE.options(java.util.Map.of("shifts", "0,x")))
                        .getMessage());
        assertEquals("attention blockwise: option blocks must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new Options(0)).getMessage());
        assertEquals(new Options(2), ((BlockwiseAttention) AttentionKind.BLOCKWISE.create(
                MultiHeadAttention.Config.llama(8, 2, 2, 16).withKind(AttentionKind.BLOCKWISE), null)).options());
    }

    /** Embedding → one pre-norm block whose attention is the BLOCKWISE kind (RoPE, no causal mask) → a linear head. */
    static final class Encoder extends Module {
        private final TokenEmbedding embed;
        private final TransformerBlock block;
        private final Linear head;

        Encoder(int vocab, int dim, Generator g) {
            var attn = new MultiHeadAttention.Config(dim, 2, 2, dim / 2, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000, 16, null, 1e-6,
                    0, 0, DType.F32).withKind(AttentionKind.BLOCKWISE);
            var mlp = new FeedForward.Config(dim, 2 * dim, FeedForward.Kind.SWIGLU, null, false, DType.F32);
            embed = child("embed", new TokenEmbedding(vocab, dim, 0.2, g, DType.F32));
            block = child("block", new TransformerBlock(new TransformerBlock.Config(attn, mlp, NormKind.RMS_NORM, 1e-6, false,
                    NormPlacement.PRE, BlockStyle.SERIAL, 0), g));
            head = child("head", new Linear(dim, vocab, false, g));
        }

        Variable forward(Tensor ids) {
            return head.forward(block.forward(embed.forward(ids), AttentionMask.NONE, null)); // (B, T, V)
        }
    }

    /**
     * A bidirectional task: token m of each sequence is masked and must be recovered as
     * (x[m − 1] + x[m + 1]) mod 7, so the answer needs the key after the query; 20 AdamW steps on a
     * fixed batch must cut the loss at the masked positions.
     */
    @Test
    void shortTrainingRunLowersTheLoss() {
        int batch = 8, t = 8, mask = 7;
        Generator g = new Generator(71);
        long[] ids = new long[batch * t];
        long[] targets = new long[batch * t];
        java.util.Arrays.fill(targets, Losses.IGNORE_INDEX);
        for (int r = 0; r < batch; r++) {
            for (int p = 0; p < t; p++) {
                ids[r * t + p] = g.nextLong(7);
            }
            int m = 1 + (int) g.nextLong(t - 2);
            targets[r * t + m] = (ids[r * t + m - 1] + ids[r * t + m + 1]) % 7;
            ids[r * t + m] = mask;
        }
        Tensor x = Tensor.of(ids, batch, t);
        Tensor y = Tensor.of(targets, batch, t);
        Encoder model = new Encoder(8, 16, new Generator(72));
        AdamW opt = new AdamW(ParamGroup.all(model.parameters()), 2e-2);
        double first = Double.NaN, last = Double.NaN;
        for (int step = 0; step < 20; step++) {
            opt.zeroGrad();
            Variable loss = Losses.crossEntropy(model.forward(x), y, Losses.IGNORE_INDEX, 0);
            loss.backward();
            opt.step();
            first = step == 0 ? loss.item() : first;
            last = loss.item();
        }
        assertTrue(last < 0.5 * first, "blockwise encoder loss " + first + " -> " + last);
    }
}
