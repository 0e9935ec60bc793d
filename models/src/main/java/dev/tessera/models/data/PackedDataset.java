package dev.tessera.models.data;

import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Training and validation batches from a {@link TokenizedCorpus}, packed without padding.
 *
 * <p><b>Split.</b> Each document goes to validation when a hash of (split seed, document index) falls
 * below the validation fraction; at least one document is held out when the fraction is positive
 * and the corpus has two or more, and at least one always stays in training. Validation documents
 * never appear in training batches. When that leaves either side shorter than one sequence of
 * T + 1 tokens (one text file, a handful of short ones), the split falls back to the tail of the
 * stream, as nanoGPT does with a single file: the last ⌈fraction · tokens⌉ tokens of the packed
 * stream, and at least T + 1 of them, are held out (the document they cut is split between the
 * sides), the rest is trained on. A corpus with fewer than 2 (T + 1) tokens is refused: it cannot
 * give one training and one validation sequence.
 *
 * <p><b>Packing.</b> The training documents (or pieces of them), in corpus order, each followed by the end-of-document
 * token, form one stream that is cut into consecutive, non-overlapping sequences of T + 1 tokens;
 * a sequence gives inputs {@code s[0, T)} and targets {@code s[1, T + 1)}. The final partial
 * sequence (fewer than T + 1 tokens at the end of the stream) is dropped, so every other training
 * token appears exactly once per epoch. A document may start in one sequence and continue in the
 * next. Document ids count, within each row, the end-of-document tokens before each position (the
 * EOD itself still belongs to the document it ends), feeding the A9 document mask.
 *
 * <p><b>Order.</b> Sample g = step · B + b of a run is sequence {@code perm_e[g mod N]} of epoch
 * e = g / N, where {@code perm_e} is a Fisher–Yates shuffle of the N sequence indices driven by a
 * {@link Generator} seeded from (seed, e). So {@link #batch(long, int)} is a pure function of
 * (seed, step, batch size): resuming at step k continues exactly, in any call order, on any
 * instance.
 *
 * <p><b>Validation</b> packs the validation documents the same way, unshuffled, and treats the
 * stream as cyclic so its last partial sequence wraps around to the start: all validation tokens
 * are covered by {@link #validationSequences()} sequences, a few of them twice.
 */
public final class PackedDataset implements BatchSource {
    /**
     * @param sequenceLength T, tokens per row of inputs
     * @param seed data-order seed
     * @param validationFraction share of documents held out, in [0, 1)
     * @param splitSeed seed of the document split, kept apart from {@code seed} so runs with
     *     different data orders share one validation set
     */
    public record Config(int sequenceLength, long seed, double validationFraction, long splitSeed) {
        public Config {
            if (sequenceLength < 1) {
                throw new IllegalArgumentException("PackedDataset.Config: sequenceLength must be >= 1, got " + sequenceLength);
            }
            if (!(validationFraction >= 0 && validationFraction < 1)) {
                throw new IllegalArgumentException("PackedDataset.Config: validationFraction must be in [0, 1), got " + validationFraction);
            }
        }

        /** 1% validation, split seed 0. */
        public static Config of(int sequenceLength, long seed) {
            return new Config(sequenceLength, seed, 0.01, 0);
        }
    }

    /**
     * One batch, each tensor (B, T) I64.
     *
     * @param step the step it was drawn for (-1 - index for validation batches)
     * @param inputs token ids
     * @param targets the next token at each position
     * @param documentIds per-row document index of each position, for {@link AttentionMask}
     */
    public record Batch(long step, Tensor inputs, Tensor targets, Tensor documentIds) {
        /** This batch with its tensors on {@code device} (copies unless already there). */
        public Batch to(Device device) {
            return new Batch(step, inputs.to(device), targets.to(device), documentIds == null ? null : documentIds.to(device));
        }

        /** Causal plus document mask for this batch. */
        public AttentionMask mask() {
            return PackedDataset.mask(this);
        }
    }

    /** How the validation set was taken: none (fraction 0), whole documents, or the tail of the token stream. */
    public enum Split { NONE, DOCUMENTS, TAIL }

    /**
     * A packed token stream: piece k is tokens {@code [from[k], from[k] + length[k])} of document
     * {@code doc[k]}, followed by an EOD when {@code eod[k]}; {@code starts[k]} is its offset in the
     * stream, {@code starts[pieces]} the stream's length. Every piece holds at least one token or EOD.
     */
    private record Stream(int[] doc, int[] from, int[] length, boolean[] eod, long[] starts) {
        int pieces() {
            return doc.length;
        }

        long size() {
            return starts[doc.length];
        }

        int[] documents() {
            return Arrays.stream(doc).distinct().toArray();
        }
    }

    /** Collects pieces in stream order. */
    private static final class StreamBuilder {
        private int n;
        private int[] doc;
        private int[] from;
        private int[] length;
        private boolean[] eod;

        StreamBuilder(int capacity) {
            doc = new int[capacity];
            from = new int[capacity];
            length = new int[capacity];
            eod = new boolean[capacity];
        }

        void add(int d, int start, int len, boolean withEod) {
            if (len == 0 && !withEod) {
                return;
            }
            doc[n] = d;
            from[n] = start;
            length[n] = len;
            eod[n] = withEod;
            n++;
        }

        Stream build() {
            long[] starts = new long[n + 1];
            for (int k = 0; k < n; k++) {
                starts[k + 1] = starts[k] + length[k] + (eod[k] ? 1 : 0);
            }
            return new Stream(Arrays.copyOf(doc, n), Arrays.copyOf(from, n), Arrays.copyOf(length, n), Arrays.copyOf(eod, n), starts);
        }
    }

    private final TokenizedCorpus corpus;
    private final Config config;
    private final Split split;
    private final Stream train;
    private final Stream validation;
    private final int numSequences;
    private final int numValidationSequences;

    private long cachedEpochA = -1;
    private int[] cachedPermA;
    private long cachedEpochB = -1;
    private int[] cachedPermB;

    public PackedDataset(TokenizedCorpus corpus, Config config) {
        this.corpus = corpus;
        this.config = config;
        int n = corpus.numDocuments();
        if (n == 0) {
            throw new IllegalArgumentException("PackedDataset: the corpus has no documents");
        }
        int row = config.sequenceLength() + 1;
        long total = corpus.numTokens() + n; // each document and its EOD
        Stream[] sides = config.validationFraction() == 0 ? null : byDocuments(split(n, config.validationFraction(), config.splitSeed()));
        if (sides == null) {
            split = Split.NONE;
            train = byDocuments(new boolean[n])[0];
            validation = new StreamBuilder(0).build();
        } else if (sides[0].size() >= row && sides[1].size() >= row) {
            split = Split.DOCUMENTS;
            train = sides[0];
            validation = sides[1];
        } else {
            if (total < 2L * row) {
                throw new IllegalArgumentException("PackedDataset: " + total + " tokens (EODs included) cannot fill one training and one"
                        + " validation sequence of " + row + " tokens (sequence length " + config.sequenceLength() + " + 1); need at least "
                        + 2L * row);
            }
            long held = Math.min(total - row, Math.max(row, (long) Math.ceil(config.validationFraction() * total)));
            split = Split.TAIL;
            sides = byCut(total - held);
            train = sides[0];
            validation = sides[1];
        }
        long seqs = train.size() / row;
        if (seqs == 0) {
            throw new IllegalArgumentException("PackedDataset: " + train.size() + " training tokens (EODs included) do not fill one sequence of "
                    + row + " tokens (sequence length " + config.sequenceLength() + " + 1)");
        }
        if (seqs > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("PackedDataset: " + seqs + " sequences per epoch exceed 2^31; use a longer sequence length");
        }
        numSequences = (int) seqs;
        numValidationSequences = (int) Math.min(Integer.MAX_VALUE - 8, (validation.size() + row - 1) / row);
    }

    /** Whole documents: {@code [training, validation]} by the flags. */
    private Stream[] byDocuments(boolean[] validation) {
        int n = validation.length;
        StreamBuilder t = new StreamBuilder(n);
        StreamBuilder v = new StreamBuilder(n);
        for (int d = 0; d < n; d++) {
            (validation[d] ? v : t).add(d, 0, corpus.documentLength(d), true);
        }
        return new Stream[] {t.build(), v.build()};
    }

    /** The stream of all documents cut at offset {@code cut}: {@code [training = [0, cut), validation = [cut, end)]}. */
    private Stream[] byCut(long cut) {
        int n = corpus.numDocuments();
        StreamBuilder t = new StreamBuilder(n);
        StreamBuilder v = new StreamBuilder(n);
        long at = 0;
        for (int d = 0; d < n; d++) {
            int len = corpus.documentLength(d);
            if (at + len + 1 <= cut) {
                t.add(d, 0, len, true);
            } else if (at >= cut) {
                v.add(d, 0, len, true);
            } else {
                int head = (int) (cut - at); // 1 … len: the cut falls inside the document or just before its EOD
                t.add(d, 0, head, false);
                v.add(d, head, len - head, true);
            }
            at += len + 1;
        }
        return new Stream[] {t.build(), v.build()};
    }

    /** Which documents are held out: a seeded hash per document, at least one each side where possible. */
    private static boolean[] split(int n, double fraction, long splitSeed) {
        boolean[] validation = new boolean[n];
        if (fraction <= 0 || n < 2) {
            return validation;
        }
        int count = 0;
        int minDoc = 0;
        int maxDoc = 0;
        double min = 2;
        double max = -1;
        for (int d = 0; d < n; d++) {
            double u = (mix(splitSeed ^ mix(d + 0x5EED_5EEDL)) >>> 11) * 0x1.0p-53;
            if (u < fraction) {
                validation[d] = true;
                count++;
            }
            if (u < min) {
                min = u;
                minDoc = d;
            }
            if (u > max) {
                max = u;
                maxDoc = d;
            }
        }
        if (count == 0) {
            validation[minDoc] = true;
        } else if (count == n) {
            validation[maxDoc] = false;
        }
        return validation;
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public int sequenceLength() {
        return config.sequenceLength();
    }

    public Config config() {
        return config;
    }

    public TokenizedCorpus corpus() {
        return corpus;
    }

    /** N: training sequences of T + 1 tokens in one epoch. */
    public long sequencesPerEpoch() {
        return numSequences;
    }

    /** Sequences the validation stream covers (its last one wraps around); 0 without validation documents. */
    public long validationSequences() {
        return numValidationSequences;
    }

    /** Validation batches of {@code batchSize} needed to cover every validation sequence once. */
    public int validationBatches(int batchSize) {
        return (numValidationSequences + batchSize - 1) / batchSize;
    }

    /** Indices (into the corpus) of the documents with tokens in training, ascending. */
    public int[] trainingDocuments() {
        return train.documents();
    }

    /** Indices (into the corpus) of the documents with tokens in validation, ascending (with a tail split, the cut one is in both). */
    public int[] validationDocuments() {
        return validation.documents();
    }

    /** How the validation set was taken. */
    public Split split() {
        return split;
    }

    /** Tokens held out for validation, EODs included. */
    public long validationTokens() {
        return validation.size();
    }

    /** One line for the CLI: how much is held out, and how. */
    public String describeSplit() {
        long all = train.size() + validation.size();
        return switch (split) {
            case NONE -> "validation: none (fraction 0)";
            case DOCUMENTS -> String.format(java.util.Locale.ROOT, "validation: %,d of %,d documents held out (%,d tokens, %.1f%%)",
                    validation.pieces(), corpus.numDocuments(), validation.size(), 100.0 * validation.size() / all);
            case TAIL -> String.format(java.util.Locale.ROOT, "validation: the last %,d of %,d tokens held out (%.1f%%; too few documents"
                    + " to hold out whole ones)", validation.size(), all, 100.0 * validation.size() / all);
        };
    }

    /** Training tokens per epoch, EODs included (the dropped partial sequence excluded). */
    public long tokensPerEpoch() {
        return (long) numSequences * (config.sequenceLength() + 1);
    }

    /** Epochs completed before {@code step}, fractionally. */
    public double epochAt(long step, int batchSize) {
        return (double) step * batchSize / numSequences;
    }

    /** The causal document mask for {@code batch}: {@code new AttentionMask(true, documentIds, 0)}. */
    public static AttentionMask mask(Batch batch) {
        return new AttentionMask(true, batch.documentIds(), 0);
    }

    /** The training batch of {@code step}: a pure function of (seed, step, batchSize). */
    @Override
    public Batch batch(long step, int batchSize) {
        checkBatch(batchSize);
        if (step < 0) {
            throw new IllegalArgumentException("PackedDataset.batch: step must be >= 0, got " + step);
        }
        long first = Math.multiplyExact(step, (long) batchSize);
        int[] sequences = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            long g = first + b;
            sequences[b] = permutation(g / numSequences)[(int) (g % numSequences)];
        }
        return assemble(step, sequences, train);
    }

    /** Validation batch {@code index}: sequences index · B … index · B + B − 1, wrapping past the last. */
    @Override
    public Batch validationBatch(int index, int batchSize) {
        checkBatch(batchSize);
        if (numValidationSequences == 0) {
            throw new IllegalStateException("PackedDataset: no validation set (validation fraction " + config.validationFraction() + ")");
        }
        if (index < 0) {
            throw new IllegalArgumentException("PackedDataset.validationBatch: index must be >= 0, got " + index);
        }
        int[] sequences = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            sequences[b] = (int) (((long) index * batchSize + b) % numValidationSequences);
        }
        return assemble(-1L - index, sequences, validation);
    }

    /** Training sequence {@code index} (unshuffled), T + 1 tokens. */
    public long[] trainingSequence(int index) {
        if (index < 0 || index >= numSequences) {
            throw new IndexOutOfBoundsException("PackedDataset.trainingSequence: " + index + " outside [0, " + numSequences + ")");
        }
        long[] row = new long[config.sequenceLength() + 1];
        fill(train, (long) index * row.length, row, new boolean[row.length]);
        return row;
    }

    private void checkBatch(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("PackedDataset: batchSize must be >= 1, got " + batchSize);
        }
    }

    private Batch assemble(long step, int[] sequences, Stream stream) {
        int t = config.sequenceLength();
        int rows = sequences.length;
        long[] row = new long[t + 1];
        boolean[] eod = new boolean[t + 1];
        long[] inputs = new long[rows * t];
        long[] targets = new long[rows * t];
        long[] ids = new long[rows * t];
        for (int b = 0; b < rows; b++) {
            fill(stream, (long) sequences[b] * (t + 1), row, eod);
            System.arraycopy(row, 0, inputs, b * t, t);
            System.arraycopy(row, 1, targets, b * t, t);
            long id = 0;
            for (int i = 0; i < t; i++) {
                ids[b * t + i] = id;
                if (eod[i]) {
                    id++;
                }
            }
        }
        return new Batch(step, longs(inputs, rows, t), longs(targets, rows, t), longs(ids, rows, t)); // (B, T) each
    }

    private static Tensor longs(long[] data, int rows, int cols) {
        return Tensor.of(Storage.wrap(DType.I64, data), rows, cols);
    }

    /**
     * Copies tokens {@code [pos, pos + row.length)} of {@code stream} into {@code row}, marking
     * inserted EODs; wraps past the stream's end.
     */
    private void fill(Stream stream, long pos, long[] row, boolean[] eod) {
        long[] starts = stream.starts();
        int pieces = stream.pieces();
        pos %= stream.size();
        int k = Arrays.binarySearch(starts, 0, pieces, pos);
        if (k < 0) {
            k = -k - 2;
        }
        int eodId = corpus.endOfDocument();
        int i = 0;
        while (i < row.length) {
            if (k == pieces) {
                k = 0;
                pos = 0;
            }
            long local = pos - starts[k];
            int len = stream.length()[k];
            if (local < len) {
                int n = (int) Math.min(len - local, row.length - i);
                corpus.copy(corpus.documentStart(stream.doc()[k]) + stream.from()[k] + local, row, i, n);
                Arrays.fill(eod, i, i + n, false);
                i += n;
                pos += n;
            } else {
                if (stream.eod()[k]) {
                    row[i] = eodId;
                    eod[i] = true;
                    i++;
                    pos++;
                }
                k++;
            }
        }
    }

    /** The shuffle of epoch {@code epoch}; the last two are kept, since a batch may straddle epochs. */
    private synchronized int[] permutation(long epoch) {
        if (epoch == cachedEpochA) {
            return cachedPermA;
        }
        if (epoch == cachedEpochB) {
            return cachedPermB;
        }
        int[] perm = new int[numSequences];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        Generator g = new Generator(mix(config.seed()) ^ mix(epoch + 0x632BE59BD9B4E019L));
        for (int i = perm.length - 1; i > 0; i--) {
            int j = (int) g.nextLong(i + 1L);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        cachedEpochB = cachedEpochA;
        cachedPermB = cachedPermA;
        cachedEpochA = epoch;
        cachedPermA = perm;
        return perm;
    }
}
