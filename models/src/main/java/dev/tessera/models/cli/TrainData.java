package dev.tessera.models.cli;

import dev.tessera.models.data.Corpus;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.data.TokenCache;
import dev.tessera.models.data.TokenizedCorpus;
import dev.tessera.models.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** Opens the training text, tokenizes it once into the cache (with a progress line on a terminal) and packs it. */
final class TrainData {
    private TrainData() {}

    static PackedDataset load(Path data, Path cacheDir, Tokenizer tokenizer, int sequenceLength, long seed, PrintWriter out) {
        Corpus corpus = data == null ? Corpus.jdkSources() : Corpus.open(data);
        TokenCache cache = cacheDir == null ? new TokenCache() : new TokenCache(cacheDir);
        TokenizedCorpus tokens;
        try (ByteProgress progress = ByteProgress.start("tokenize", out)) { // draws nothing when the cache is hit
            tokens = cache.load(corpus, tokenizer, progress);
        }
        out.printf(Locale.ROOT, "data %s: %d documents, %,d tokens (%s)%n", corpus.description(), tokens.numDocuments(), tokens.numTokens(),
                tokens.fromCache() ? "from cache" : "tokenized and cached");
        if (tokens.skippedFiles() > 0) {
            out.printf("warning: skipped %d files that are not UTF-8 text%n", tokens.skippedFiles());
        }
        if (tokens.rebuildReason() != null) {
            out.printf("note: the token cache was rebuilt (%s)%n", tokens.rebuildReason());
        }
        out.flush();
        return new PackedDataset(tokens, PackedDataset.Config.of(sequenceLength, seed));
    }
}
