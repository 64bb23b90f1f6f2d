package io.colo4j.cli;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicators;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.io.InputFiles;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.memory.ModelFits;
import io.colo4j.zoo.tokenizer.Tokenizer;
import io.colo4j.zoo.tokenizer.Tokenizers;
import io.colo4j.zoo.train.CheckpointManifest;
import io.colo4j.zoo.train.LanguageModel;
import io.colo4j.zoo.train.Mfu;
import io.colo4j.zoo.train.SaveFolder;
import io.colo4j.zoo.train.TokenData;
import io.colo4j.zoo.train.TrainConfig;
import io.colo4j.zoo.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bin/colo4j train}: trains any zoo family on a text file, serially or on tp x dp ranks (in-JVM
 * threads, or one process per rank under mpirun), through one path: config (named, or from --init /
 * --resume), model, rules, weights, trainer.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a model of the zoo on a text file: AdamW, linear warmup + cosine decay, global-norm clipping; "
                + "checkpoints (HF model folder + optimizer state) every --save-every steps and at the end, resumable with --resume.",
            "Progress is one redrawn line on a terminal, plain lines otherwise; --save also gets losses.csv and loss.png."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", completionCandidates = ZooCandidates.Families.class,
            description = "Zoo family: ${COMPLETION-CANDIDATES} (default: the model_type of the --init/--resume folder's config.json, else gpt2).")
    String model;

    @Option(names = "--config", completionCandidates = ZooCandidates.Configs.class,
            description = "A named config of the --model family: ${COMPLETION-CANDIDATES} (default: tiny, or the --init/--resume model's).")
    String config;

    @Mixin
    RulesOption rules;

    @Mixin
    SequenceParallelOption sequenceParallel;

    @Option(names = "--init", description = "Start from this HF model folder (config.json + model.safetensors).")
    Path init;

    @Option(names = "--data", description = "UTF-8 text file to train on (default: the bundled corpus of GNU license texts).")
    Path data;

    @Option(names = "--tokenizer", arity = "1..2", paramLabel = "SPEC",
            description = "byte (default), gpt2 (GPT-2's BPE, bundled), an HF tokenizer.json, a folder, or vocab.json merges.txt.")
    List<String> tokenizer;

    @Option(names = "--steps", defaultValue = "50", description = "Optimizer steps in the whole run (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", description = "Tokens per sequence (default: min(64, the model's positions)).")
    Integer seq;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup", description = "Linear warmup steps (default: 10%% of --steps).")
    Long warmup;

    @Option(names = "--min-lr-ratio", defaultValue = "0.1", description = "Cosine decay ends at lr * this (default: ${DEFAULT-VALUE}).")
    double minLrRatio;

    @Option(names = "--weight-decay", defaultValue = "0.1",
            description = "AdamW weight decay, not applied to biases and LayerNorm weights (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--beta1", defaultValue = "0.9", description = "AdamW beta1 (default: ${DEFAULT-VALUE}).")
    double beta1;

    @Option(names = "--beta2", defaultValue = "0.95", description = "AdamW beta2 (default: ${DEFAULT-VALUE}).")
    double beta2;

    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clip, 0 = off (default: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--dropout", description = "Override every dropout probability of the config.")
    Float dropout;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the model init, data order and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--save", description = "Folder for checkpoints, losses.csv and loss.png (default with --resume: its save folder).")
    Path save;

    @Option(names = "--sample", defaultValue = "0", paramLabel = "N",
            description = "After training, print a greedy continuation of \"" + SAMPLE_PROMPT + "\", N tokens long (fewer if the model's"
                    + " positions end first), generated from the saved checkpoint on the same --tp with a KV cache (causal LMs,"
                    + " with --save; 0 = none, the default).")
    int sample;

    @Option(names = "--save-every", defaultValue = "0", description = "Checkpoint every N steps; 0 = only at the end (default: ${DEFAULT-VALUE}).")
    long saveEvery;

    @Option(names = "--resume", description = "Continue from a checkpoint folder, or a save folder's latest checkpoint.")
    Path resume;

    @Option(names = "--overwrite",
            description = "Train afresh into a --save folder that holds another run; its checkpoints go once this run has one.")
    boolean overwrite;

    @Option(names = "--log-every", defaultValue = "0", description = "Without a terminal, a progress line every N steps; 0 = about 20 lines.")
    long logEvery;

    @Option(names = "--allow-nonfinite", description = "Load NaN and infinite weights as they are (refused by default, naming the first).")
    boolean allowNonFinite;

    @Option(names = "--skip-nonfinite", description = "Skip a step whose loss or gradient norm is NaN or infinite (no update, gradients"
            + " zeroed, the step named) instead of stopping; " + Trainer.SKIP_NONFINITE_IN_A_ROW + " skipped in a row still stop the run.")
    boolean skipNonFinite;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree: in-JVM ranks sharding every weight (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--dp", defaultValue = "1", description = "Data-parallel degree: replicas each taking batch/dp sequences (default: ${DEFAULT-VALUE}).")
    int dp;

    @Option(names = "--zero", defaultValue = "0",
            description = "ZeRO stage over the dp group: 1 shards the AdamW moments, 2 also reduce-scatters gradients (default: ${DEFAULT-VALUE}).")
    int zero;

    @Option(names = "--recompute", defaultValue = "none", paramLabel = "none|selective|full",
            description = "Activations recomputed in backward instead of kept: none, selective (the attention core) or full (every"
                    + " layer, keeping only its input); the gradients are the same bits (default: ${DEFAULT-VALUE}).")
    String recompute;

    private Recompute recomputeMode;

    private Mfu mfu;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        System.setProperty(SafeTensorsReader.ALLOW_NONFINITE, Boolean.toString(allowNonFinite));
        if (tp < 1 || dp < 1) {
            throw new IllegalArgumentException("--tp and --dp must be >= 1, got tp=" + tp + ", dp=" + dp);
        }
        recomputeMode = Recompute.parse(recompute);
        if (zero < 0 || zero > 2) {
            throw new IllegalArgumentException("--zero must be 0, 1 or 2, got " + zero);
        }
        if (zero > 0 && dp == 1) {
            throw new IllegalArgumentException("--zero " + zero + " shards optimizer state over the data-parallel ranks; it needs --dp > 1");
        }
        int mpiWorld = MpiProcesses.world();
        MpiProcesses.require(tp * dp, "--tp " + tp + " x --dp " + dp);
        if (!MpiProcesses.first()) {
            out = new PrintStream(java.io.OutputStream.nullOutputStream());
        }
        if (batch % dp != 0) {
            throw new IllegalArgumentException("--batch " + batch + " is not divisible by --dp " + dp + ": each dp rank takes batch/dp sequences");
        }
        if (init != null && resume != null) {
            throw new IllegalArgumentException("give --init or --resume, not both");
        }
        Path checkpoint = resume == null ? null : Trainer.resolveCheckpoint(resume);
        Path from = checkpoint != null ? checkpoint : init;
        ModelZoo.Family family = sequenceParallel.applyTo(rules.applyTo(model != null ? ModelZoo.family(model) : from != null ? ModelZoo.familyOf(from) : ModelZoo.family("gpt2")));
        HfFamilyOps hf = family.requireHf();
        Path saveDir = save != null ? save : checkpoint == null ? null : checkpoint.toAbsolutePath().getParent();
        if (saveDir != null) {
            SaveFolder.check(saveDir, checkpoint != null || overwrite);
        }
        if (checkpoint != null) {
            CheckpointManifest.verify(checkpoint, List.of()); // all its files, before any work; resume notes a folder without checksums
        } else if (init != null) {
            CheckpointManifest.verifyModelFolder(init, System.err);
        }
        HfConfig cfg = from != null ? hf.readConfig(from) : hf.config(config != null ? config : family.defaultConfig());
        if (config != null && from != null && !hf.withDropout(hf.config(config), 0f).equals(hf.withDropout(cfg, 0f))) {
            throw new IllegalArgumentException("--config " + config + " differs from the model in " + from);
        }
        if (dropout != null && !(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("--dropout " + dropout + " must lie in [0, 1)");
        }
        if (dropout != null && checkpoint == null) {
            cfg = hf.withDropout(cfg, dropout);
        }
        int seqLen = seq != null ? seq : Math.min(64, cfg.maxPositions());
        SequenceParallelOption.requireDivides(family, seqLen, tp);
        ModelFits.require(hf, cfg, family.rules(), tp, dp, zero, mpiWorld > 0 ? 1 : tp * dp, ModelFits.Use.TRAIN,
                from != null ? from.resolve(HfCheckpoint.CONFIG).toString() : "--config " + (config != null ? config : family.defaultConfig()));
        Tokenizer tok = Tokenizers.load(tokenizer == null ? List.of() : tokenizer);
        if (tok.vocabSize() > cfg.vocabSize()) {
            throw new IllegalArgumentException("the " + tok.spec() + " tokenizer has " + tok.vocabSize() + " ids but the model's vocabulary only "
                    + cfg.vocabSize() + "; use a model with a larger vocabulary (a larger --config) or a smaller tokenizer (--tokenizer byte)");
        }
        if (data != null) {
            InputFiles.requireRegular(data, "--data file");
        }
        TokenData tokens = data == null ? TokenData.bundled(tok) : TokenData.fromFile(data, tok);
        long warm = warmup != null ? warmup : steps / 10;
        TrainConfig tc = new TrainConfig(steps, batch, seqLen, lr, warm, minLrRatio, weightDecay, beta1, beta2, clip, seed, saveEvery, logEvery);
        out.println(String.format(Locale.ROOT, "%s %s (%s): %.2fM parameters%s; tp=%d dp=%d%s", family.name(),
                config != null ? config : from != null ? "from " + from : family.defaultConfig(), family.description(),
                parameterCount(hf, cfg) / 1e6, init != null ? ", weights from " + init : "", tp, dp,
                tp * dp > 1 ? " (" + tp * dp + " in-JVM ranks)" : ""));
        out.println(String.format(Locale.ROOT,
                "data: %,d tokens from %s (tokenizer %s); %d steps x %d sequences x %d tokens; lr %.2e, warmup %d, cosine to %.0f%%, "
                        + "weight decay %.3g, clip %.3g, seed %d%s",
                tokens.size(), tokens.source(), tok.spec(), steps, batch, seqLen, lr, warm, minLrRatio * 100, weightDecay, clip, seed,
                saveDir != null ? "; saving to " + saveDir : ""));
        // the peak is measured before the ranks start; under mpirun the other processes would share the cores meanwhile
        mfu = mpiWorld > 0 ? null : Mfu.of(cfg, seqLen);
        String label = config != null ? config : from != null ? from.toString() : family.defaultConfig();
        RulesHeader.lines(family.pinned(label, cfg), label, tp, Math.max(2, seqLen - seqLen % 2), recomputeMode).forEach(out::println);
        boolean terminal = System.console() != null && System.console().isTerminal();
        HfConfig modelConfig = cfg;
        PrintStream log = out;
        if (tp * dp == 1) {
            train(hf, hf.build(cfg, seed), null, tokens, tc, checkpoint, saveDir, log, terminal);
        } else {
            // threads of this JVM, or one rank per process when started by mpirun
            Communicators.launch(tp * dp, comm -> {
                Module m;
                DistContext context;
                try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")) {
                    m = hf.build(modelConfig, seed);
                    context = ctx.context();
                }
                family.rules().apply(m);
                train(hf, m, context, tokens, tc, checkpoint, saveDir, log, terminal);
            });
        }
        if (saveDir != null) {
            out.println("losses: " + saveDir.resolve("losses.csv") + ", curve: " + saveDir.resolve("loss.png"));
        }
        if (sample > 0 && saveDir != null && mpiWorld <= 0) {
            return sample(hf, cfg, saveDir, out);
        }
        return 0;
    }

    /** What --sample continues: the first words of the bundled corpus's licenses. */
    static final String SAMPLE_PROMPT = "This License";

    /** The --sample continuation, through generate's own path (the checkpoint as generate would read it). */
    private int sample(HfFamilyOps hf, HfConfig cfg, Path saveDir, PrintStream out) throws java.io.IOException {
        if (!(ModelFits.buildLazily(hf, cfg) instanceof io.colo4j.zoo.hf.CausalLm)) {
            out.println("sample: none (" + hf.modelType() + " does not continue text)");
            return 0;
        }
        int promptIds = Tokenizers.load(tokenizer == null ? List.of() : tokenizer).encode(SAMPLE_PROMPT).length;
        int tokens = Math.min(sample, cfg.maxPositions() - promptIds + 1);
        if (tokens < 1) {
            out.println("sample: none (the model's " + cfg.maxPositions() + " positions leave no room after the prompt)");
            return 0;
        }
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model-dir", saveDir.toString(), "--tp", String.valueOf(tp),
                "--prompt", SAMPLE_PROMPT, "--max-new-tokens", String.valueOf(tokens), "--greedy"));
        if (tokenizer != null) {
            args.add("--tokenizer");
            args.addAll(tokenizer);
        }
        if (rules.file != null) {
            args.addAll(List.of("--rules", rules.file.toString()));
        }
        out.println("sample (greedy, " + tokens + " tokens from " + saveDir + "):");
        out.flush();
        return Colo4jCommand.commandLine().execute(args.toArray(String[]::new));
    }

    /** The model's parameter count, from a lazily built copy (nothing allocated). */
    private static long parameterCount(HfFamilyOps hf, HfConfig cfg) {
        Module lazy = ModelFits.buildLazily(hf, cfg);
        return lazy.namedParameters().values().stream().mapToLong(p -> Shapes.numel(p.fullShape())).sum();
    }

    /** One rank's run (the only one when serial): weights from --init (this rank's shards), resume, train. */
    private void train(HfFamilyOps hf, Module m, DistContext context, TokenData tokens, TrainConfig tc, Path checkpoint, Path saveDir,
                       PrintStream out, boolean terminal) throws java.io.IOException {
        if (init != null) {
            hf.loadWeights(m, init);
        }
        LanguageModel lm = hf.languageModel(m);
        Trainer trainer = new Trainer(lm, tokens, tc);
        if (context != null) {
            trainer.distributed(context, zero);
        }
        trainer.log(out, terminal).mfu(mfu).recompute(recomputeMode);
        if (saveDir != null) {
            trainer.saveTo(saveDir);
        }
        if (overwrite) {
            trainer.overwriteSaveFolder();
        }
        if (skipNonFinite) {
            trainer.skipNonFinite(Trainer.SKIP_NONFINITE_IN_A_ROW);
        }
        if (checkpoint != null) {
            trainer.resume(checkpoint);
        }
        trainer.run();
    }
}
