package dev.tessera.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.tokenizer.ByteTokenizer;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackedDatasetTest {
    static final int EOD = 0;

    /** Documents whose every token is unique (1, 2, 3, …), so each token can be traced; EOD is 0. */
    static TokenizedCorpus uniqueTokens(long seed, int docs, int maxLen) {
        Generator g = new Generator(seed);
        List<int[]> list = new ArrayList<>();
        int next = 1;
        for (int d = 0; d < docs; d++) {
            int[] doc = new int[(int) g.nextLong(maxLen + 1)];
            for (int i = 0; i < doc.length; i++) {
                doc[i] = next++;
            }
            list.add(doc);
        }
        return TokenizedCorpus.of(list, next, EOD);
    }

    /** The training stream as the dataset should pack it: each training document then EOD. */
    static long[] expectedStream(TokenizedCorpus c, int[] docs) {
        List<Long> s = new ArrayList<>();
        for (int d : docs) {
            for (int t : c.document(d)) {
                s.add((long) t);
            }
            s.add((long) EOD);
        }
        return s.stream().mapToLong(Long::longValue).toArray();
    }

    static long[][] rows(PackedDataset.Batch b) {
        int rows = b.inputs().size(0);
        int t = b.inputs().size(1);
        long[] in = b.inputs().toLongArray();
        long[] tg = b.targets().toLongArray();
        long[][] out = new long[rows][t + 1];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(in, r * t, out[r], 0, t);
            out[r][t] = tg[r * t + t - 1];
            for (int i = 0; i + 1 < t; i++) {
                assertEquals(in[r * t + i + 1], tg[r * t + i], "targets are inputs shifted by one");
            }
        }
        return out;
    }

    @Property(tries = 60)
    void oneEpochCoversEveryTrainingTokenOnce(@ForAll @IntRange(min = 1, max = 40) int docs, @ForAll @IntRange(min = 0, max = 50) int maxLen,
                                              @ForAll @IntRange(min = 1, max = 17) int t, @ForAll @IntRange(min = 1, max = 5) int batch,
                                              @ForAll @LongRange(min = 0, max = 1000) long seed) {
        TokenizedCorpus c = uniqueTokens(seed, docs, maxLen);
        PackedDataset.Config config = new PackedDataset.Config(t, seed, 0.2, seed + 1);
        PackedDataset ds;
        try {
            ds = new PackedDataset(c, config);
        } catch (IllegalArgumentException tooSmall) {
            assertTrue(tooSmall.getMessage().contains("cannot fill one training and one validation sequence"), tooSmall.getMessage());
            assertTrue(c.numTokens() + c.numDocuments() < 2L * (t + 1), tooSmall.getMessage());
            return;
        }
        int n = (int) ds.sequencesPerEpoch();
        // whole documents on each side, or (too few for that) the head of the stream and its tail
        long[] all = expectedStream(c, java.util.stream.IntStream.range(0, c.numDocuments()).toArray());
        long held = ds.validationTokens();
        assertTrue(held >= t + 1, "at least one validation sequence");
        long[] expected = ds.split() == PackedDataset.Split.TAIL ? Arrays.copyOf(all, (int) (all.length - held))
                : expectedStream(c, ds.trainingDocuments());
        Set<Long> validationTokens = new HashSet<>();
        if (ds.split() == PackedDataset.Split.TAIL) {
            assertEquals(Math.min(all.length - t - 1, Math.max(t + 1, (long) Math.ceil(0.2 * all.length))), held);
            Arrays.stream(all, (int) (all.length - held), all.length).filter(x -> x != EOD).forEach(validationTokens::add);
        } else {
            for (int d : ds.validationDocuments()) {
                for (int tok : c.document(d)) {
                    validationTokens.add((long) tok);
                }
            }
        }
        assertEquals(expected.length / (t + 1), n, "the final partial sequence is dropped");

        // unshuffled: consecutive sequences tile the stream
        for (int i = 0; i < n; i++) {
            assertArrayEquals(Arrays.copyOfRange(expected, i * (t + 1), (i + 1) * (t + 1)), ds.trainingSequence(i));
        }

        // shuffled: the first N samples of the run are the N sequences, each once
        Map<List<Long>, Integer> wanted = new HashMap<>(); // a multiset: all-EOD rows repeat
        for (int i = 0; i < n; i++) {
            wanted.merge(Arrays.stream(ds.trainingSequence(i)).boxed().toList(), 1, Integer::sum);
        }
        Set<Long> seenTokens = new HashSet<>();
        int sample = 0;
        for (long step = 0; sample < n; step++) {
            PackedDataset.Batch b = ds.batch(step, batch);
            long[][] r = rows(b);
            long[] ids = b.documentIds().toLongArray();
            for (int row = 0; row < r.length; row++, sample++) {
                checkDocumentIds(r[row], Arrays.copyOfRange(ids, row * t, (row + 1) * t));
                if (sample < n) {
                    List<Long> key = Arrays.stream(r[row]).boxed().toList();
                    assertTrue(wanted.containsKey(key), "each sequence once per epoch");
                    wanted.computeIfPresent(key, (k, v) -> v == 1 ? null : v - 1);
                    for (long tok : r[row]) {
                        if (tok != EOD) {
                            assertTrue(seenTokens.add(tok), "token " + tok + " twice in one epoch");
                        }
                    }
                }
            }
        }
        assertTrue(wanted.isEmpty());
        long covered = Arrays.stream(expected, 0, n * (t + 1)).filter(x -> x != EOD).count();
        assertEquals(covered, seenTokens.size());

        // validation tokens never appear in training, and validation batches cover them all
        for (long tok : seenTokens) {
            assertFalse(validationTokens.contains(tok));
        }
        Set<Long> seenValidation = new HashSet<>();
        for (int i = 0; i < ds.validationBatches(batch); i++) {
            for (long[] row : rows(ds.validationBatch(i, batch))) {
                for (long tok : row) {
                    if (tok != EOD) {
                        assertTrue(validationTokens.contains(tok), "validation batches hold validation tokens only");
                        seenValidation.add(tok);
                    }
                }
            }
        }
        assertEquals(validationTokens, seenValidation);
    }

    /** Ids start at 0 in each row and step up exactly after each EOD. */
    static void checkDocumentIds(long[] row, long[] ids) {
        long id = 0;
        for (int i = 0; i < ids.length; i++) {
            assertEquals(id, ids[i], "document id at " + i);
            if (row[i] == EOD) {
                id++;
            }
        }
    }

    @Test
    void splitIsByDocumentSeededAndNeverEmpty() {
        TokenizedCorpus c = uniqueTokens(3, 2000, 20);
        PackedDataset a = new PackedDataset(c, new PackedDataset.Config(8, 1, 0.1, 42));
        PackedDataset b = new PackedDataset(c, new PackedDataset.Config(8, 999, 0.1, 42));
        assertArrayEquals(a.validationDocuments(), b.validationDocuments(), "the data-order seed leaves the split alone");
        int nv = a.validationDocuments().length;
        assertTrue(nv > 140 && nv < 260, "about 10% held out: " + nv);
        assertEquals(2000, nv + a.trainingDocuments().length);
        PackedDataset other = new PackedDataset(c, new PackedDataset.Config(8, 1, 0.1, 43));
        assertFalse(Arrays.equals(a.validationDocuments(), other.validationDocuments()));

        TokenizedCorpus few = uniqueTokens(4, 5, 20);
        PackedDataset d = new PackedDataset(few, new PackedDataset.Config(2, 0, 0.01, 0));
        assertEquals(1, d.validationDocuments().length, "at least one validation document");
        assertEquals(4, d.trainingDocuments().length);
        PackedDataset none = new PackedDataset(few, new PackedDataset.Config(2, 0, 0, 0));
        assertEquals(0, none.validationDocuments().length);
        assertThrows(IllegalStateException.class, () -> none.validationBatch(0, 1));
    }

    /** One document 0 … n−1 (token i is i + 1; EOD is 0). */
    static TokenizedCorpus oneDocument(int n) {
        int[] doc = new int[n];
        Arrays.setAll(doc, i -> i + 1);
        return TokenizedCorpus.of(List.of(doc), n + 1, EOD);
    }

    @Test
    void aSingleDocumentHoldsOutTheTailOfItsTokens() {
        // 1000 tokens + EOD: 10% is 101 tokens, so validation is tokens 900 … 999 and the EOD, training tokens 0 … 899
        PackedDataset ds = new PackedDataset(oneDocument(1000), new PackedDataset.Config(16, 7, 0.1, 0));
        assertEquals(900 / 17, ds.sequencesPerEpoch());
        for (int i = 0; i < ds.sequencesPerEpoch(); i++) {
            long[] row = ds.trainingSequence(i);
            for (int j = 0; j < row.length; j++) {
                assertEquals(i * 17 + j + 1, row[j], "training tiles the head of the stream");
            }
        }
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < ds.validationBatches(2); i++) {
            for (long[] row : rows(ds.validationBatch(i, 2))) {
                for (long tok : row) {
                    assertTrue(tok == EOD || tok > 900, "validation holds the tail only: " + tok);
                    seen.add(tok);
                }
            }
        }
        assertEquals(101, seen.size(), "every held-out token, the EOD included");
        // 1% of 1001 tokens is less than one sequence: one whole sequence (T + 1 = 17 tokens) is held out instead
        PackedDataset small = new PackedDataset(oneDocument(1000), PackedDataset.Config.of(16, 7));
        assertEquals(1, small.validationSequences());
        assertEquals((1001 - 17) / 17, small.sequencesPerEpoch());
        assertEquals(985, rows(small.validationBatch(0, 1))[0][0]);
    }

    @Test
    void tooFewTokensForATrainingAndAValidationSequenceAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new PackedDataset(oneDocument(20), PackedDataset.Config.of(16, 7)));
        assertTrue(e.getMessage().startsWith("PackedDataset: 21 tokens") && e.getMessage().contains("at least 34"), e.getMessage());
    }

    @Test
    void batchIsAPureFunctionOfSeedAndStep() {
        TokenizedCorpus c = uniqueTokens(7, 300, 40);
        PackedDataset.Config config = new PackedDataset.Config(16, 1234, 0.05, 0);
        PackedDataset a = new PackedDataset(c, config);
        PackedDataset b = new PackedDataset(c, config);
        int batch = 4;
        long epochSteps = a.sequencesPerEpoch() / batch;
        long[] steps = {0, 1, 2, epochSteps - 1, epochSteps, epochSteps + 1, 3 * epochSteps + 2, 12345};
        List<long[]> forward = new ArrayList<>();
        for (long s : steps) {
            forward.add(a.batch(s, batch).inputs().toLongArray());
        }
        for (int i = steps.length - 1; i >= 0; i--) { // another instance, reverse order
            PackedDataset.Batch bb = b.batch(steps[i], batch);
            assertArrayEquals(forward.get(i), bb.inputs().toLongArray(), "step " + steps[i]);
            assertEquals(steps[i], bb.step());
        }
        for (int i = 0; i < steps.length; i++) { // the first instance again, after visiting other epochs
            assertArrayEquals(forward.get(i), a.batch(steps[i], batch).inputs().toLongArray());
        }
        PackedDataset otherSeed = new PackedDataset(c, new PackedDataset.Config(16, 1235, 0.05, 0));
        assertFalse(Arrays.equals(forward.get(0), otherSeed.batch(0, batch).inputs().toLongArray()), "another seed, another order");
        // consecutive epochs are shuffled differently
        long[] e0 = a.batch(0, (int) a.sequencesPerEpoch()).inputs().toLongArray();
        long[] e1 = a.batch(1, (int) a.sequencesPerEpoch()).inputs().toLongArray();
        assertFalse(Arrays.equals(e0, e1));
    }

    @Test
    void batchShapesTypesAndMask() {
        TokenizedCorpus c = TokenizedCorpus.of(List.of(new int[] {1, 2, 3}, new int[] {4, 5}, new int[] {6, 7, 8, 9}), 16, 15);
        PackedDataset ds = new PackedDataset(c, new PackedDataset.Config(11, 0, 0, 0));
        assertEquals(1, ds.sequencesPerEpoch()); // 3+1 + 2+1 + 4+1 = 12 tokens = one row of T + 1
        PackedDataset.Batch b = ds.batch(0, 2);
        for (var x : List.of(b.inputs(), b.targets(), b.documentIds())) {
            assertEquals(DType.I64, x.dtype());
            assertArrayEquals(new int[] {2, 11}, x.shape());
        }
        assertArrayEquals(new long[] {1, 2, 3, 15, 4, 5, 15, 6, 7, 8, 9}, Arrays.copyOf(b.inputs().toLongArray(), 11));
        assertArrayEquals(new long[] {2, 3, 15, 4, 5, 15, 6, 7, 8, 9, 15}, Arrays.copyOf(b.targets().toLongArray(), 11));
        assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2}, Arrays.copyOf(b.documentIds().toLongArray(), 11));
        AttentionMask mask = PackedDataset.mask(b);
        assertTrue(mask.causal());
        assertSame(b.documentIds(), mask.documentIds());
        assertTrue(mask.allowed(0, 3, 0, 11, 11), "EOD still sees its own document");
        assertFalse(mask.allowed(0, 4, 3, 11, 11), "the next document does not see the previous one");
        assertTrue(mask.allowed(0, 6, 4, 11, 11));
        assertFalse(mask.allowed(0, 4, 5, 11, 11), "causal");
        assertEquals(mask, b.mask());
        assertThrows(IllegalArgumentException.class, () -> new PackedDataset(c, new PackedDataset.Config(12, 0, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> new PackedDataset.Config(0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new PackedDataset.Config(8, 0, 1.0, 0));
    }

    @Test
    void endToEndFromFilesWithTheByteTokenizer(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("d"));
        for (int i = 0; i < 20; i++) {
            Files.writeString(dir.resolve("f" + (char) ('a' + i) + ".txt"), "document " + i + " ".repeat(i) + "é");
        }
        TokenizedCorpus c = new TokenCache(tmp.resolve("cache")).load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE);
        PackedDataset ds = new PackedDataset(c, new PackedDataset.Config(32, 5, 0.1, 0));
        assertTrue(ds.validationDocuments().length >= 1);
        PackedDataset.Batch b = ds.batch(0, 3);
        long[] in = b.inputs().toLongArray();
        long[] ids = b.documentIds().toLongArray();
        for (int r = 0; r < 3; r++) {
            checkEods(Arrays.copyOfRange(in, r * 32, r * 32 + 32), Arrays.copyOfRange(ids, r * 32, r * 32 + 32));
        }
        assertNotEquals(0, ds.sequencesPerEpoch());
    }

    private static void checkEods(long[] row, long[] ids) {
        long id = 0;
        for (int i = 0; i < row.length; i++) {
            assertEquals(id, ids[i]);
            if (row[i] == ByteTokenizer.EOD) {
                id++;
            }
        }
    }
}
