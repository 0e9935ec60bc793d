package dev.tessera.models.data;

/**
 * Where the trainer's batches come from: training batch {@code index} must be a pure function of
 * the index (so resuming continues exactly), validation batch {@code i} of {@code i}.
 * {@link PackedDataset} is the real one; tests wrap it to inject faults.
 */
public interface BatchSource {
    PackedDataset.Batch batch(long index, int batchSize);

    PackedDataset.Batch validationBatch(int index, int batchSize);

    int sequenceLength();
}
