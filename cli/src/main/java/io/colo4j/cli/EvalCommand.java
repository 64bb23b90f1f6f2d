package io.colo4j.cli;

import io.colo4j.tensor.comm.Communicators;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.io.InputFiles;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.train.Evaluation;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bin/colo4j eval}: the mean loss of a model folder of any zoo family on a tokens file. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints 'loss <float>': the mean loss (nats) of a model over token sequences, as its family trains.",
            "--tokens holds one sequence per line, whitespace-separated ids. Causal LMs (gpt2, opt, llama): next-token",
            "cross-entropy, tokens 1..n-1 predicted from 0..n-2. bert: masked-LM loss over a 15% mask of each line (80% [MASK],",
            "10% random, 10% kept) seeded by the line's number, so the same file always gets the same mask. t5: lines",
            "'source ||| target', the target predicted with teacher forcing from the source."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model-dir", required = true,
            description = "HF model folder (config.json + model.safetensors), a training checkpoint, or a save folder (its latest).")
    Path modelDir;

    @Option(names = "--model", description = "Zoo family of the folder: one of ${COMPLETION-CANDIDATES}"
            + " (default: the one its config.json's model_type names).", completionCandidates = ZooCandidates.Families.class)
    String model;

    @Mixin
    RulesOption rules;

    @Option(names = "--tokens", required = true, description = "Token ids, one sequence per line.")
    Path tokens;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree, on in-JVM ranks (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--batch", defaultValue = "8", description = "Equal-length sequences evaluated together (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--allow-nonfinite", description = "Load NaN and infinite weights as they are (refused by default, naming the first).")
    boolean allowNonFinite;

    @Override
    public Integer call() throws Exception {
        System.setProperty(SafeTensorsReader.ALLOW_NONFINITE, Boolean.toString(allowNonFinite));
        if (tp < 1) {
            throw new IllegalArgumentException("--tp must be >= 1, got " + tp);
        }
        if (batch < 1) { // accepted in silence before bench fuzz found it
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        InputFiles.requireRegular(tokens, "--tokens file");
        ModelFolder folder = ModelFolder.open(modelDir, model, rules);
        List<Evaluation.Line> lines = Evaluation.readLines(tokens);
        MpiProcesses.require(tp, "--tp " + tp);
        folder.requireFits(tp);
        // every rank memory-maps the file and reads only its shard's bytes
        double[] loss = new double[1];
        try {
            // threads of this JVM, or one rank per process when started by mpirun
            Communicators.launch(tp, comm -> {
                Module m = folder.load(comm);
                double mean = Evaluation.meanLoss(folder.hf().languageModel(m), lines, batch);
                if (comm.rank() == 0) {
                    loss[0] = mean;
                }
            });
        } catch (io.colo4j.tensor.comm.RankFailedException e) {
            // the ranks refuse a line the model cannot read; the user needs the file too (found by bench fuzz)
            if (e.getCause() instanceof IllegalArgumentException bad && String.valueOf(bad.getMessage()).startsWith("line ")) {
                throw new IllegalArgumentException(tokens + ": " + bad.getMessage(), bad);
            }
            throw e;
        }
        if (MpiProcesses.first()) { // rank 0 holds the mean (one rank per process under mpirun)
            if (!Double.isFinite(loss[0]) && !allowNonFinite) { // found by bench fuzz: finite weights near float32's largest print "loss NaN", exit 0
                throw new IllegalStateException(modelDir + ": the mean loss over " + tokens + " is " + loss[0] + " though every weight is finite:"
                        + " the forward pass overflowed float32 (weights too large); --allow-nonfinite prints it anyway");
            }
            System.out.println(String.format(Locale.ROOT, "loss %.6f", loss[0]));
        }
        return 0;
    }
}
