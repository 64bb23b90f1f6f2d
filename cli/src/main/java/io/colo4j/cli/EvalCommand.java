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
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import java.util.List;
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

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree, on in-JVM ranks (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--batch", defaultValue = "8", description = "Equal-length sequences evaluated together (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        if (tp < 1) {
            throw new IllegalArgumentException("--tp must be >= 1, got " + tp);
        }
        if (!Files.isRegularFile(tokens)) {
            throw new IllegalArgumentException("--tokens " + tokens + ": no such file");
        }
        Path dir = Files.isRegularFile(modelDir.resolve(Gpt2Checkpoint.CONFIG)) ? modelDir : Trainer.resolveCheckpoint(modelDir);
        List<int[]> sequences = Evaluation.readTokenLines(tokens);
        double loss;
        if (tp == 1) {
            loss = Evaluation.meanNextTokenLoss(new Gpt2LanguageModel(Gpt2Checkpoint.load(dir)), sequences, batch);
        } else {
            // every rank memory-maps the file and reads only its shard's bytes
            Gpt2Config config = Gpt2Checkpoint.readConfig(dir);
            loss = ThreadWorld.call(tp, comm -> {
                Gpt2Model model;
                try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                    model = new Gpt2Model(config.withDropout(0f), 0);
                }
                ModelZoo.family("gpt2").rules().apply(model);
                Gpt2Checkpoint.loadWeights(model, dir.resolve(Gpt2Checkpoint.WEIGHTS));
                return Evaluation.meanNextTokenLoss(new Gpt2LanguageModel(model), sequences, batch);
            }).get(0);
        }
        System.out.println(String.format(Locale.ROOT, "loss %.6f", loss));
        return 0;
    }
}
