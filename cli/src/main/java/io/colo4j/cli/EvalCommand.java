package io.colo4j.cli;

import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2LanguageModel;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.train.Evaluation;
import io.colo4j.zoo.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/colo4j eval}: the mean next-token loss of a model folder on a tokens file. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints 'loss <float>': the mean next-token cross-entropy (nats) of a model over token sequences.",
            "--tokens holds one sequence per line, whitespace-separated ids; tokens 1..n-1 are predicted from 0..n-2."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model-dir", required = true,
            description = "HF model folder (config.json + model.safetensors), a training checkpoint, or a save folder (its latest).")
    Path modelDir;

    @Option(names = "--tokens", required = true, description = "Token ids, one sequence per line.")
    Path tokens;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree (only 1 so far).")
    int tp;

    @Option(names = "--batch", defaultValue = "8", description = "Equal-length sequences evaluated together (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        if (tp != 1) {
            throw new IllegalArgumentException("--tp " + tp + ": tensor parallelism arrives with the dispatcher; only --tp 1 works today");
        }
        if (!Files.isRegularFile(tokens)) {
            throw new IllegalArgumentException("--tokens " + tokens + ": no such file");
        }
        Path dir = Files.isRegularFile(modelDir.resolve(Gpt2Checkpoint.CONFIG)) ? modelDir : Trainer.resolveCheckpoint(modelDir);
        Gpt2Model model = Gpt2Checkpoint.load(dir);
        double loss = Evaluation.meanNextTokenLoss(new Gpt2LanguageModel(model), Evaluation.readTokenLines(tokens), batch);
        System.out.println(String.format(Locale.ROOT, "loss %.6f", loss));
        return 0;
    }
}
