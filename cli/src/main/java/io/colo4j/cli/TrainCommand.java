package io.colo4j.cli;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicators;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2LanguageModel;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.tokenizer.Tokenizer;
import io.colo4j.zoo.tokenizer.Tokenizers;
import io.colo4j.zoo.train.TokenData;
import io.colo4j.zoo.train.TrainConfig;
import io.colo4j.zoo.train.LanguageModel;
import io.colo4j.zoo.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/colo4j train}: trains a language model on a text file, serially for now. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a GPT-2 on a text file: AdamW, linear warmup + cosine decay, global-norm clipping; "
                + "checkpoints (HF model folder + optimizer state) every --save-every steps and at the end, resumable with --resume.",
            "Progress is one redrawn line on a terminal, plain lines otherwise; --save also gets losses.csv and loss.png."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "gpt2", description = "Zoo family: gpt2, opt, llama, bert or t5 (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--config", description = "tiny, small, medium, large or xl (default: tiny, or the --init/--resume model's).")
    String config;

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

    @Option(names = "--dropout", description = "Override the config's embd/attn/resid dropout.")
    Float dropout;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the model init, data order and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--save", description = "Folder for checkpoints, losses.csv and loss.png (default with --resume: its save folder).")
    Path save;

    @Option(names = "--save-every", defaultValue = "0", description = "Checkpoint every N steps; 0 = only at the end (default: ${DEFAULT-VALUE}).")
    long saveEvery;

    @Option(names = "--resume", description = "Continue from a checkpoint folder, or a save folder's latest checkpoint.")
    Path resume;

    @Option(names = "--log-every", defaultValue = "0", description = "Without a terminal, a progress line every N steps; 0 = about 20 lines.")
    long logEvery;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree: in-JVM ranks sharding every weight (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--dp", defaultValue = "1", description = "Data-parallel degree: replicas each taking batch/dp sequences (default: ${DEFAULT-VALUE}).")
    int dp;

    @Option(names = "--zero", defaultValue = "0",
            description = "ZeRO stage over the dp group: 1 shards the AdamW moments, 2 also reduce-scatters gradients (default: ${DEFAULT-VALUE}).")
    int zero;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (tp < 1 || dp < 1) {
            throw new IllegalArgumentException("--tp and --dp must be >= 1, got tp=" + tp + ", dp=" + dp);
        }
        if (zero < 0 || zero > 2) {
            throw new IllegalArgumentException("--zero must be 0, 1 or 2, got " + zero);
        }
        if (zero > 0 && dp == 1) {
            throw new IllegalArgumentException("--zero " + zero + " shards optimizer state over the data-parallel ranks; it needs --dp > 1");
        }
        int mpiWorld = Communicators.underMpi() ? Integer.parseInt(System.getenv().getOrDefault("OMPI_COMM_WORLD_SIZE", "-1")) : -1;
        if (mpiWorld > 0 && mpiWorld != tp * dp) {
            throw new IllegalArgumentException("mpirun started " + mpiWorld + " processes but --tp " + tp + " x --dp " + dp + " = " + tp * dp
                    + " ranks are needed: one process per rank");
        }
        if (mpiWorld > 0 && !"0".equals(System.getenv("OMPI_COMM_WORLD_RANK"))) {
            out = new PrintStream(java.io.OutputStream.nullOutputStream());
        }
        if (batch % dp != 0) {
            throw new IllegalArgumentException("--batch " + batch + " is not divisible by --dp " + dp + ": each dp rank takes batch/dp sequences");
        }
        if (!model.equalsIgnoreCase("gpt2")) {
            return trainFamily(ModelZoo.family(model), out);
        }
        if (init != null && resume != null) {
            throw new IllegalArgumentException("give --init or --resume, not both");
        }
        Path checkpoint = resume == null ? null : Trainer.resolveCheckpoint(resume);
        Gpt2Config cfg;
        if (checkpoint != null) {
            cfg = Gpt2Checkpoint.readConfig(checkpoint);
        } else if (init != null) {
            cfg = Gpt2Checkpoint.readConfig(init);
        } else {
            cfg = Gpt2Config.named(config == null ? "tiny" : config);
        }
        if (config != null && (checkpoint != null || init != null) && !Gpt2Config.named(config).withDropout(0).equals(cfg.withDropout(0))) {
            throw new IllegalArgumentException("--config " + config + " differs from the model in " + (checkpoint != null ? checkpoint : init));
        }
        if (dropout != null && checkpoint == null) {
            cfg = cfg.withDropout(dropout);
        }
        Tokenizer tok = Tokenizers.load(tokenizer == null ? List.of() : tokenizer);
        if (tok.vocabSize() > cfg.vocabSize()) {
            throw new IllegalArgumentException("the " + tok.spec() + " tokenizer has " + tok.vocabSize() + " ids but the model's vocabulary only "
                    + cfg.vocabSize() + "; use a model with a larger vocabulary (e.g. --config small) or a smaller tokenizer (--tokenizer byte)");
        }
        if (data != null && !java.nio.file.Files.isRegularFile(data)) {
            throw new IllegalArgumentException("--data " + data + ": no such file");
        }
        TokenData tokens = data == null ? TokenData.bundled(tok) : TokenData.fromFile(data, tok);
        int seqLen = seq != null ? seq : Math.min(64, cfg.nPositions());
        long warm = warmup != null ? warmup : steps / 10;
        TrainConfig tc = new TrainConfig(steps, batch, seqLen, lr, warm, minLrRatio, weightDecay, beta1, beta2, clip, seed, saveEvery, logEvery);

        Path saveDir = save;
        if (saveDir == null && checkpoint != null) {
            saveDir = checkpoint.toAbsolutePath().getParent();
        }
        out.println(String.format(Locale.ROOT,
                "gpt2 %s: %.2fM parameters (%d layers, %d wide, %d heads, vocab %d, %d positions, dropout %.2f)%s; tp=%d dp=%d%s",
                config != null ? config : init != null ? "from " + init : checkpoint != null ? "from " + checkpoint : "tiny",
                cfg.parameterCount() / 1e6, cfg.nLayer(), cfg.nEmbd(), cfg.nHead(), cfg.vocabSize(), cfg.nPositions(), cfg.residPdrop(),
                init != null ? ", weights from " + init : "", tp, dp, tp * dp > 1 ? " (" + tp * dp + " in-JVM ranks)" : ""));
        out.println(String.format(Locale.ROOT,
                "data: %,d tokens from %s (tokenizer %s); %d steps x %d sequences x %d tokens; lr %.2e, warmup %d, cosine to %.0f%%, "
                        + "weight decay %.3g, clip %.3g, seed %d%s",
                tokens.size(), tokens.source(), tok.spec(), steps, batch, seqLen, lr, warm, minLrRatio * 100, weightDecay, clip, seed,
                saveDir != null ? "; saving to " + saveDir : ""));
        boolean terminal = System.console() != null && System.console().isTerminal();
        Gpt2Config modelConfig = cfg;
        Path saveTo = saveDir;
        PrintStream log = out;
        if (tp * dp == 1) {
            Gpt2Model gpt2 = new Gpt2Model(cfg, seed);
            train(gpt2, null, tokens, tc, checkpoint, saveTo, out, terminal);
        } else {
            // threads of this JVM, or one rank per process when started by mpirun
            Communicators.launch(tp * dp, comm -> {
                Gpt2Model gpt2;
                DistContext context;
                try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")) {
                    gpt2 = new Gpt2Model(modelConfig, seed);
                    context = ctx.context();
                }
                ModelZoo.family("gpt2").rules().apply(gpt2);
                train(gpt2, context, tokens, tc, checkpoint, saveTo, log, terminal);
            });
        }
        if (saveDir != null) {
            out.println("losses: " + saveDir.resolve("losses.csv") + ", curve: " + saveDir.resolve("loss.png"));
        }
        return 0;
    }

    /** One GPT-2 rank's run (the only one when serial): weights from --init, then as every family. */
    private void train(Gpt2Model gpt2, DistContext context, TokenData tokens, TrainConfig tc, Path checkpoint, Path saveDir,
                       PrintStream out, boolean terminal) throws java.io.IOException {
        if (init != null) {
            Gpt2Checkpoint.loadWeights(gpt2, init.resolve(Gpt2Checkpoint.WEIGHTS));
        }
        train(new Gpt2LanguageModel(gpt2), context, tokens, tc, checkpoint, saveDir, out, terminal);
    }

    /**
     * Any other zoo family (OPT, Llama, BERT, T5): built from its named config, sharded by its rules, trained
     * through its adapter (next-token, masked-LM or encoder-decoder loss on the token windows).
     */
    private int trainFamily(ModelZoo.Family family, PrintStream out) throws Exception {
        if (init != null || dropout != null) {
            throw new IllegalArgumentException("--init and --dropout work for gpt2 so far; for " + family.name()
                    + " use --config " + family.configs() + " (and --resume)");
        }
        String cfg = config != null ? config : family.defaultConfig();
        if (!family.configs().contains(cfg)) {
            throw new IllegalArgumentException("--config " + cfg + ": " + family.name() + " has " + family.configs());
        }
        Path checkpoint = resume == null ? null : Trainer.resolveCheckpoint(resume);
        Tokenizer tok = Tokenizers.load(tokenizer == null ? List.of() : tokenizer);
        if (data != null && !java.nio.file.Files.isRegularFile(data)) {
            throw new IllegalArgumentException("--data " + data + ": no such file");
        }
        TokenData tokens = data == null ? TokenData.bundled(tok) : TokenData.fromFile(data, tok);
        int seqLen = seq != null ? seq : 64;
        long warm = warmup != null ? warmup : steps / 10;
        TrainConfig tc = new TrainConfig(steps, batch, seqLen, lr, warm, minLrRatio, weightDecay, beta1, beta2, clip, seed, saveEvery, logEvery);
        Path saveDir = save != null ? save : checkpoint == null ? null : checkpoint.toAbsolutePath().getParent();
        out.println(String.format(Locale.ROOT, "%s %s (%s); tp=%d dp=%d; data: %,d tokens from %s (tokenizer %s); %d steps x %d x %d%s",
                family.name(), cfg, family.description(), tp, dp, tokens.size(), tokens.source(), tok.spec(), steps, batch, seqLen,
                saveDir != null ? "; saving to " + saveDir : ""));
        boolean terminal = System.console() != null && System.console().isTerminal();
        PrintStream log = out;
        if (tp * dp == 1) {
            train(family.languageModel(family.build(cfg, seed)), null, tokens, tc, checkpoint, saveDir, log, terminal);
        } else {
            Communicators.launch(tp * dp, comm -> {
                io.colo4j.tensor.nn.Module m;
                DistContext context;
                try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")) {
                    m = family.build(cfg, seed);
                    context = ctx.context();
                }
                family.rules().apply(m);
                train(family.languageModel(m), context, tokens, tc, checkpoint, saveDir, log, terminal);
            });
        }
        return 0;
    }

    /** One rank's run (the only one when serial): resume, train. */
    private void train(LanguageModel lm, DistContext context, TokenData tokens, TrainConfig tc, Path checkpoint, Path saveDir,
                       PrintStream out, boolean terminal) throws java.io.IOException {
        Trainer trainer = new Trainer(lm, tokens, tc);
        if (context != null) {
            trainer.distributed(context, zero);
        }
        trainer.log(out, terminal);
        if (saveDir != null) {
            trainer.saveTo(saveDir);
        }
        if (checkpoint != null) {
            trainer.resume(checkpoint);
        }
        trainer.run();
    }
}
