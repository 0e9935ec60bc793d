package dev.tessera.models.data;

import dev.tessera.nn.AttentionMask;
import dev.tessera.tensor.DType;
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
 * never appear in training batches.
 *
 * <p><b>Packing.</b> The training documents, in corpus order, each followed by the end-of-document
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
        /** Causal plus document mask for this batch. */
        public AttentionMask mask() {
            return PackedDataset.mask(this);
        }
    }

    private final TokenizedCorpus corpus;
    private final Config config;
    private final int[] trainDocs;
    private final int[] validationDocs;
    private final long[] trainStarts;
    private final long[] validationStarts;
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
        boolean[] validation = split(n, config.validationFraction(), config.splitSeed());
        int nv = 0;
        for (boolean v : validation) {
            nv += v ? 1 : 0;
        }
        trainDocs = new int[n - nv];
        validationDocs = new int[nv];
        for (int d = 0, t = 0, v = 0; d < n; d++) {
            if (validation[d]) {
                validationDocs[v++] = d;
            } else {
                trainDocs[t++] = d;
            }
        }
        trainStarts = streamStarts(trainDocs);
        validationStarts = streamStarts(validationDocs);
        int row = config.sequenceLength() + 1;
        long trainLen = trainStarts[trainDocs.length];
        long seqs = trainLen / row;
        if (seqs == 0) {
            throw new IllegalArgumentException("PackedDataset: " + trainLen + " training tokens (EODs included) do not fill one sequence of "
                    + row + " tokens (sequence length " + config.sequenceLength() + " + 1)");
        }
        if (seqs > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("PackedDataset: " + seqs + " sequences per epoch exceed 2^31; use a longer sequence length");
        }
        numSequences = (int) seqs;
        long valLen = validationStarts[validationDocs.length];
        numValidationSequences = (int) Math.min(Integer.MAX_VALUE - 8, (valLen + row - 1) / row);
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

    private long[] streamStarts(int[] docs) {
        long[] s = new long[docs.length + 1];
        for (int k = 0; k < docs.length; k++) {
            s[k + 1] = s[k] + corpus.documentLength(docs[k]) + 1;
        }
        return s;
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

    /** Indices (into the corpus) of the training documents, ascending. */
    public int[] trainingDocuments() {
        return trainDocs.clone();
    }

    /** Indices (into the corpus) of the validation documents, ascending. */
    public int[] validationDocuments() {
        return validationDocs.clone();
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
        return assemble(step, sequences, trainDocs, trainStarts, numSequences);
    }

    /** Validation batch {@code index}: sequences index · B … index · B + B − 1, wrapping past the last. */
    @Override
    public Batch validationBatch(int index, int batchSize) {
        checkBatch(batchSize);
        if (numValidationSequences == 0) {
            throw new IllegalStateException("PackedDataset: no validation documents (fraction " + config.validationFraction()
                    + ", " + corpus.numDocuments() + " documents)");
        }
        if (index < 0) {
            throw new IllegalArgumentException("PackedDataset.validationBatch: index must be >= 0, got " + index);
        }
        int[] sequences = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            sequences[b] = (int) (((long) index * batchSize + b) % numValidationSequences);
        }
        return assemble(-1L - index, sequences, validationDocs, validationStarts, numValidationSequences);
    }

    /** Training sequence {@code index} (unshuffled), T + 1 tokens. */
    public long[] trainingSequence(int index) {
        if (index < 0 || index >= numSequences) {
            throw new IndexOutOfBoundsException("PackedDataset.trainingSequence: " + index + " outside [0, " + numSequences + ")");
        }
        long[] row = new long[config.sequenceLength() + 1];
        fill(trainDocs, trainStarts, (long) index * row.length, row, new boolean[row.length]);
        return row;
    }

    private void checkBatch(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("PackedDataset: batchSize must be >= 1, got " + batchSize);
        }
    }

    private Batch assemble(long step, int[] sequences, int[] docs, long[] starts, int count) {
        int t = config.sequenceLength();
        int rows = sequences.length;
        long[] row = new long[t + 1];
        boolean[] eod = new boolean[t + 1];
        long[] inputs = new long[rows * t];
        long[] targets = new long[rows * t];
        long[] ids = new long[rows * t];
        for (int b = 0; b < rows; b++) {
            fill(docs, starts, (long) sequences[b] * (t + 1), row, eod);
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
     * Copies stream tokens {@code [pos, pos + row.length)} of the documents {@code docs} (stream
     * offsets {@code starts}) into {@code row}, marking inserted EODs; wraps past the stream's end.
     */
    private void fill(int[] docs, long[] starts, long pos, long[] row, boolean[] eod) {
        long total = starts[docs.length];
        pos %= total;
        int k = Arrays.binarySearch(starts, 0, docs.length, pos);
        if (k < 0) {
            k = -k - 2;
        }
        int eodId = corpus.endOfDocument();
        int i = 0;
        while (i < row.length) {
            int doc = docs[k];
            long local = pos - starts[k];
            int len = corpus.documentLength(doc);
            if (local < len) {
                int n = (int) Math.min(len - local, row.length - i);
                corpus.copy(corpus.documentStart(doc) + local, row, i, n);
                Arrays.fill(eod, i, i + n, false);
                i += n;
                pos += n;
            } else {
                row[i] = eodId;
                eod[i] = true;
                i++;
                pos++;
                k++;
                if (k == docs.length) {
                    k = 0;
                    pos = 0;
                }
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
