package dev.tessera.models.cli;

import dev.tessera.models.data.Corpus;
import dev.tessera.models.tokenizer.BpeTokenizer;
import dev.tessera.models.tokenizer.BpeTrainer;
import dev.tessera.models.tokenizer.PreTokenizer;
import dev.tessera.models.tokenizer.TokenizerJson;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera tokenizer ...}: byte-level BPE tokenizers. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Byte-level BPE tokenizers.", subcommands = {TokenizerCommand.Train.class})
public final class TokenizerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** No subcommand: the usage, on stderr with status 2, like {@code tessera} alone. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    @Command(name = "train", mixinStandardHelpOptions = true, description = "Train a byte-level BPE on a corpus and write a Hugging Face tokenizer.json.")
    static final class Train implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data", description = "A text file, a directory of text files or a .zip (default: the JDK's java.base sources).")
        Path data;

        @Option(names = "--vocab-size", required = true, description = "Vocabulary size, special tokens included (>= 257).")
        int vocabSize;

        @Option(names = "--out", required = true, description = "Where to write tokenizer.json.")
        Path out;

        @Option(names = "--pattern", description = "Pre-tokenizer split regex: gpt2 or llama3 (default: gpt2).")
        String pattern = "gpt2";

        @Option(names = "--special", split = ",", description = "Special tokens; the first ends documents (default: <|endoftext|>).")
        List<String> specials = List.of("<|endoftext|>");

        @Override
        public Integer call() {
            PreTokenizer pre = PreTokenizer.named(pattern.toLowerCase(Locale.ROOT));
            if (specials.isEmpty()) {
                throw new IllegalArgumentException("tokenizer train: --special needs at least one token (the end-of-document token)");
            }
            BpeTrainer trainer = new BpeTrainer(vocabSize, pre, specials, specials.get(0));
            Corpus corpus = data == null ? Corpus.jdkSources() : Corpus.open(data);
            PrintWriter pw = spec.commandLine().getOut();
            long t0 = System.nanoTime();
            Corpus.Scan scan;
            try (ByteProgress progress = ByteProgress.start("count", pw)) {
                scan = corpus.forEachDocument((e, utf8, n) -> trainer.addText(new String(utf8, 0, n, java.nio.charset.StandardCharsets.UTF_8)),
                        progress);
            }
            long t1 = System.nanoTime();
            BpeTokenizer tok = trainer.train();
            long t2 = System.nanoTime();
            TokenizerJson.save(tok, out);
            pw.printf(Locale.ROOT, "data %s: %d documents, %,d bytes, %,d distinct words (%.1f s)%n", corpus.description(), scan.documents(), scan.bytes(),
                    trainer.distinctWords(), (t1 - t0) / 1e9);
            if (scan.skipped() > 0) {
                pw.printf("warning: skipped %d files that are not UTF-8 text%n", scan.skipped());
            }
            pw.printf(Locale.ROOT, "trained %d merges, vocab %d (%.1f s); wrote %s (id %s)%n", tok.merges().size(), tok.vocabSize(), (t2 - t1) / 1e9, out, tok.id());
            if (tok.vocabSize() < vocabSize) {
                pw.printf("note: the corpus ran out of pairs to merge before reaching vocab size %d%n", vocabSize);
            }
            pw.flush();
            return 0;
        }
    }
}
