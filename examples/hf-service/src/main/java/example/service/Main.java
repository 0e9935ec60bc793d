package example.service;

import dev.tessera.autograd.GradMode;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Starts the service over the checkpoint directory given as the first argument, checks that the
 * import is faithful (when the directory holds transformers' own logits in expected.safetensors,
 * as the test fixtures do), then serves requests from several client threads. Exits with status 1
 * when the logits differ or equal requests get different answers.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Main CHECKPOINT_DIR");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        GenerationService service = GenerationService.open(dir);

        Path expected = dir.resolve("expected.safetensors");
        if (Files.isRegularFile(expected)) {
            Map<String, Tensor> reference = SafeTensors.read(expected);
            double worst;
            try (var noGrad = GradMode.noGrad()) {
                Tensor logits = service.model().forward(reference.get("input_ids"), null).data(); // (1, T, V)
                worst = logits.sub(reference.get("logits")).abs().max(false).getDouble();
            }
            System.out.printf("hf-service: %s loaded, max |logits - transformers| = %.1e%n", dir.getFileName(), worst);
            if (!(worst < 1e-3)) {
                System.err.println("hf-service: the imported model does not reproduce transformers' logits");
                System.exit(1);
            }
        }

        List<GenerationService.Request> requests = List.of(
                new GenerationService.Request("Once upon a time", 24, 1),
                new GenerationService.Request("The JVM says", 24, 2),
                new GenerationService.Request("Once upon a time", 24, 1));
        List<GenerationService.Answer> answers = new ArrayList<>();
        try (ExecutorService clients = Executors.newFixedThreadPool(3)) {
            List<Future<GenerationService.Answer>> pending = new ArrayList<>();
            for (GenerationService.Request r : requests) {
                pending.add(clients.submit(() -> service.complete(r)));
            }
            for (Future<GenerationService.Answer> f : pending) {
                answers.add(f.get());
            }
        }
        for (int i = 0; i < requests.size(); i++) {
            System.out.printf("hf-service: %-18s -> %d tokens: \"%s\"%n", '"' + requests.get(i).prompt() + '"',
                    answers.get(i).tokens().length, answers.get(i).text());
        }
        boolean repeatable = java.util.Arrays.equals(answers.get(0).tokens(), answers.get(2).tokens());
        boolean complete = answers.stream().allMatch(a -> a.tokens().length == 24);
        if (!(repeatable && complete)) {
            System.err.println("hf-service: equal requests must get equal answers of 24 tokens (repeatable "
                    + repeatable + ", complete " + complete + ")");
            System.exit(1);
        }
    }
}
