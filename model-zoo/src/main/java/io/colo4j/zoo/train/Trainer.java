package io.colo4j.zoo.train;

import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.ops.optim.LrSchedule;
import io.colo4j.ops.optim.Optimizer;
import io.colo4j.ops.optim.ZeroAdamW;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.memory.MemoryPerRank;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * Trains a causal language model on a token stream: per step a deterministic batch (see
 * {@link TokenData#batch}), forward + backward inside a {@link MemoryScope}, global-norm clipping,
 * AdamW with linear warmup + cosine decay. Same model init, data and config give bit-identical losses.
 *
 * <p>With a save folder it writes {@code losses.csv} and {@code loss.png} and checkpoints every
 * {@code saveEvery} steps and at the end: what one holds is {@link TrainCheckpoint}'s (the model folder,
 * {@code optimizer.safetensors}, {@code trainer.json} with the step, losses, seed and data checksum), how it is
 * published atomically as {@code checkpoint-<step>/} with a {@code latest} file naming it, and pruned, is
 * {@link CheckpointStore}'s. {@link #resume} restores one, and the run continues with exactly the losses an
 * uninterrupted run would have had.
 */
public final class Trainer {
    public static final String LATEST = CheckpointStore.LATEST;
    public static final String STATE = TrainCheckpoint.STATE;
    public static final String OPTIMIZER = TrainCheckpoint.OPTIMIZER;
    static final String WRITER = CheckpointStore.WRITER;
    /** How many skipped steps in a row {@code --skip-nonfinite} allows before it stops the run. */
    public static final int SKIP_NONFINITE_IN_A_ROW = 10;

    private final LanguageModel model;
    private final TokenData data;
    private final TrainConfig config;
    private Optimizer optimizer;
    private ZeroAdamW zero;
    private final LrSchedule schedule;
    private final List<Parameter> parameters;
    private final TrainHistory history = new TrainHistory();
    private Path saveDir;
    private DoubleUnaryOperator normReduction = DoubleUnaryOperator.identity();
    private int keepCheckpoints = 2;
    private PrintStream out;
    private boolean terminal;
    private long step;
    private double previousSeconds;
    private DistContext dist;
    private boolean writer = true;
    private Mfu mfu;
    private boolean resumed;
    private boolean overwrite;
    private boolean replacedPrevious;
    private Path lastCheckpoint;
    private SkippedSteps skipNonFinite; // null: a non-finite step stops the run
    private Recompute recompute = Recompute.NONE;
    private long activationPeak; // the largest step peak of step-scoped bytes on this rank so far

    /** What a run did. */
    public record Result(List<Float> losses, long firstStep, long lastStep, double seconds, double tokensPerSecond, Path checkpoint) {}

    public Trainer(LanguageModel model, TokenData data, TrainConfig config) {
        if (data.maxId() >= model.vocabSize()) {
            throw new IllegalArgumentException("the data holds token id " + data.maxId() + " but the model's vocabulary has only "
                    + model.vocabSize() + " ids; use a matching tokenizer or a larger vocab");
        }
        if (config.seq() > model.maxSequenceLength()) {
            throw new IllegalArgumentException("seq " + config.seq() + " is longer than the model's " + model.maxSequenceLength() + " positions");
        }
        if ((long) config.seq() + 1 > data.size()) {
            throw new IllegalArgumentException("the data " + data.source() + " (" + data.size() + " tokens) is shorter than one window of seq + 1 = " + (config.seq() + 1));
        }
        this.model = model;
        this.data = data;
        this.config = config;
        this.schedule = LrSchedule.warmupCosine(config.lr(), config.warmup(), config.steps(), config.minLrRatio());
        this.parameters = List.copyOf(model.module().namedParameters().values());
    }

    /** Checkpoints, losses.csv and loss.png go to {@code dir}. */
    public Trainer saveTo(Path dir) {
        this.saveDir = dir;
        return this;
    }

    /**
     * Lets a fresh run write into a save folder that holds another run (as HF's overwrite_output_dir): its
     * checkpoints are deleted once this run's first checkpoint is published. Without it (or {@link #resume}),
     * {@link #run} refuses such a folder before the first step.
     */
    public Trainer overwriteSaveFolder() {
        this.overwrite = true;
        return this;
    }

    /**
     * How the local sum of squared gradients becomes the global one before clipping: identity for a
     * serial model; a tensor-parallel caller passes an all-reduce over its ranks (see {@link GradClip}).
     */
    public Trainer gradNormReduction(DoubleUnaryOperator reduce) {
        this.normReduction = reduce;
        return this;
    }

    /**
     * Runs as one rank of a tp x dp group: each dp rank trains on its slice of every batch, gradients
     * are averaged over dp and the clip norm is summed over tp (replicated parameters counted once), so
     * every rank sees the serial run's loss; only global rank 0 logs and writes files. Checkpoints are
     * gathered whole (a collective every rank joins), so they reload at any tp.
     */
    public Trainer distributed(DistContext context) {
        return distributed(context, 0);
    }

    /**
     * As {@link #distributed(DistContext)}, with the AdamW moments sharded over dp as ZeRO stage
     * {@code zeroStage} (1: optimizer state; 2: also gradients, reduce-scattered; 0: none), see {@link ZeroAdamW}.
     * Checkpoints keep the unsharded format, so they reload at any tp, dp and stage.
     */
    public Trainer distributed(DistContext context, int zeroStage) {
        if (zeroStage < 0 || zeroStage > 2) {
            throw new IllegalArgumentException("ZeRO stage must be 0, 1 or 2, got " + zeroStage);
        }
        if (optimizer != null) {
            throw new IllegalStateException("distributed(...) must be called before the optimizer is used");
        }
        if (config.batch() % context.dp().size() != 0) {
            throw new IllegalArgumentException("batch " + config.batch() + " is not divisible by dp=" + context.dp().size());
        }
        this.dist = context;
        if (zeroStage > 0) {
            this.zero = new ZeroAdamW(model.module().namedParameters(), adamOptions(), context, zeroStage);
            this.optimizer = zero;
        }
        this.writer = context.rank().globalRank() == 0;
        if (!writer) {
            this.out = null;
        }
        Tensor tpSum = Tensor.zeros(1);
        this.normReduction = local -> {
            tpSum.set((float) local, 0);
            context.tp().allReduce(tpSum);
            return tpSum.get(0);
        };
        return this;
    }

    /**
     * A step whose loss or gradient norm is not finite is skipped (no optimizer update, gradients zeroed, a line
     * naming it) instead of stopping the run; {@code maxInARow} skips one after another still stop it. At tp/dp
     * every rank decides alike: the loss is dp-averaged and the gradient norm tp-reduced, and a rank whose own loss
     * is not finite makes the reduced norm NaN too. See {@link SkippedSteps}.
     */
    public Trainer skipNonFinite(int maxInARow) {
        this.skipNonFinite = new SkippedSteps(maxInARow);
        return this;
    }

    /** The 0-based steps skipped so far by {@link #skipNonFinite} (those restored by {@link #resume} included). */
    public List<Long> skippedSteps() {
        return List.copyOf(history.skipped());
    }

    /** Which activations each step recomputes in backward instead of keeping (gradients are the same bits). */
    public Trainer recompute(Recompute mode) {
        this.recompute = mode;
        return this;
    }

    /**
     * The most step-scoped memory (activations, intermediate gradients and temporaries of forward and backward)
     * this rank held in any step so far, from {@link MemoryStats#stepPeakBytes()}.
     */
    public long activationPeakBytes() {
        return activationPeak;
    }

    /** Progress lines also print model FLOPs utilisation against {@code mfu} (null: they do not). */
    public Trainer mfu(Mfu mfu) {
        this.mfu = mfu;
        return this;
    }

    /** How many checkpoints to keep in the save folder (older ones are deleted after a new one is published). */
    public Trainer keepCheckpoints(int n) {
        this.keepCheckpoints = Math.max(1, n);
        return this;
    }

    /** Progress output: a redrawn line when {@code terminal}, plain lines otherwise; null for silence. */
    public Trainer log(PrintStream out, boolean terminal) {
        this.out = writer ? out : null;
        this.terminal = terminal;
        return this;
    }

    public Optimizer optimizer() {
        if (optimizer == null) {
            optimizer = new AdamW(model.module().namedParameters(), adamOptions());
        }
        return optimizer;
    }

    private AdamW.Options adamOptions() {
        return new AdamW.Options(config.lr(), config.beta1(), config.beta2(), 1e-8, config.weightDecay());
    }

    /** This rank's parameter, gradient and optimizer memory, with the sizing formula beside it (what {@code plan} predicts). */
    public MemoryPerRank memory() {
        return MemoryPerRank.held(parameters, dist == null ? 1 : dist.tpSize(), dist == null ? 1 : dist.dp().size(),
                zero == null ? 0 : zero.stage());
    }

    /** Steps completed so far (including those restored by {@link #resume}). */
    public long step() {
        return step;
    }

    /** Every loss so far, step 0 first. */
    public List<Float> losses() {
        return history.losses();
    }

    // ---- the loop -------------------------------------------------------------------------------

    public Result run() throws IOException {
        long first = step;
        Progress progress = new Progress(out == null ? new PrintStream(PrintStream.nullOutputStream()) : out, terminal,
                config.steps(), first, config.logEvery(), (long) config.batch() * config.seq());
        progress.showMfu(mfu);
        Path last = null;
        Optimizer optimizer = optimizer();
        if (out != null && dist != null) {
            out.println(memory());
        }
        if (saveDir != null && writer) {
            SaveFolder.check(saveDir, resumed || overwrite);
            store().pruneLeftovers();
        }
        model.module().train(true);
        while (step < config.steps()) {
            double lr = schedule.lr(step);
            optimizer.setLr(lr);
            float loss;
            float localLoss;
            MemoryStats.resetStepPeak();
            try (MemoryScope scope = MemoryScope.open(); var mode = Recompute.use(recompute)) {
                IntTensor[] xy = data.batch(config.seed(), step, config.batch(), config.seq());
                if (dist != null && dist.dp().size() > 1) {
                    xy = dataParallelSlice(xy);
                }
                Tensor l = model.loss(xy[0], xy[1], step);
                l.backward();
                loss = l.item();
                localLoss = loss;
                if (dist != null) {
                    loss = averageOverDp(loss);
                    if (zero != null) {
                        zero.reduceGradients();
                    } else {
                        DataParallel.averageGradients(model.module(), dist);
                    }
                }
            }
            activationPeak = Math.max(activationPeak, MemoryStats.stepPeakBytes());
            if (!Float.isFinite(loss) && skipNonFinite == null) {
                optimizer.zeroGrad();
                throw TrainingDiverged.at(step, config.steps(), "loss", loss, dist == null ? "" : DpReplicas.nonFinite(dist, localLoss), lastCheckpoint, saveDir,
                        String.format(Locale.ROOT, "lower --lr (%.3g at this step) or raise --warmup", lr));
            }
            DoubleUnaryOperator reduce = skipNonFinite == null ? normReduction : poisonedBy(loss);
            double norm = zero != null ? zero.clip(countedInNorm(), config.clip(), reduce)
                    : GradClip.clip(countedInNorm(), parameters, config.clip(), reduce);
            boolean skip = skipNonFinite != null && SkippedSteps.nonFinite(loss, norm);
            if (!Double.isFinite(norm) && !skip) {
                optimizer.zeroGrad();
                throw TrainingDiverged.at(step, config.steps(), "gradient norm", norm, "", lastCheckpoint, saveDir,
                        String.format(Locale.ROOT, "lower --lr (%.3g at this step) or set --clip", lr));
            }
            String skipped = null;
            if (skip) {
                optimizer.zeroGrad();
                skipped = skipNonFinite.skipped(step, config.steps(), loss, norm, lr, history, lastCheckpoint, saveDir);
                history.add(loss, lr, norm);
                history.markSkipped();
            } else {
                optimizer.step();
                optimizer.zeroGrad();
                history.add(loss, lr, norm);
            }
            step++;
            if (skipped != null) {
                progress.println(skipped);
            } else {
                progress.update(step, loss, lr, norm);
            }
            if (saveDir != null && config.saveEvery() > 0 && step % config.saveEvery() == 0 && step < config.steps()) {
                last = checkpoint(previousSeconds + progress.elapsedSeconds());
            }
        }
        double seconds = progress.elapsedSeconds();
        if (saveDir != null) {
            last = checkpoint(previousSeconds + seconds);
        }
        long trained = step - first;
        double tokPerSec = seconds > 0 ? trained * (double) config.batch() * config.seq() / seconds : 0;
        if (out != null && trained > 0) {
            progress.println(String.format(Locale.ROOT, "trained steps %d..%d in %.1f s: loss %.4f -> %.4f, %.0f tokens/s%s",
                    first, step - 1, seconds, history.losses().get((int) first), history.losses().get(history.size() - 1), tokPerSec,
                    last == null ? "" : ", checkpoint " + last)
                    + (skipNonFinite == null ? "" : ", " + history.skipped().size() + " skipped (non-finite) in the whole run"));
            progress.println(io.colo4j.tensor.MemoryStats.summary(dist == null || io.colo4j.tensor.comm.Communicators.underMpi()
                    ? 1 : dist.tpSize() * dist.dp().size()));
            progress.println(String.format(Locale.ROOT, "activation peak per rank: %.1f MiB (step-scoped memory of forward and backward,"
                    + " --recompute %s)", activationPeak / 1048576.0, recompute.optionName()));
        }
        return new Result(List.copyOf(history.losses().subList((int) first, history.size())), first, step, seconds, tokPerSec, last);
    }

    /**
     * The norm reduction of a step under {@link #skipNonFinite}: a non-finite loss on this rank makes the reduced norm
     * NaN on every rank of its tp group, so all of them skip the step even where their own loss was finite.
     */
    private DoubleUnaryOperator poisonedBy(float loss) {
        return Float.isFinite(loss) ? normReduction : local -> normReduction.applyAsDouble(Double.NaN);
    }

    /** This dp rank's rows of the batch. */
    private IntTensor[] dataParallelSlice(IntTensor[] xy) {
        int dp = dist.dp().size();
        int rows = config.batch() / dp;
        int from = dist.rank().dpRank() * rows * config.seq();
        IntTensor[] out = new IntTensor[2];
        for (int i = 0; i < 2; i++) {
            int[] v = java.util.Arrays.copyOfRange(xy[i].data(), from, from + rows * config.seq());
            out[i] = IntTensor.of(v, rows, config.seq());
        }
        return out;
    }

    private float averageOverDp(float local) {
        if (dist.dp().size() == 1) {
            return local;
        }
        Tensor t = Tensor.scalar(local);
        dist.dp().allReduce(t);
        return t.item() / dist.dp().size();
    }

    /** Sharded gradients count on every tp rank, replicated ones (identical everywhere) on tp rank 0 only. */
    private List<Parameter> countedInNorm() {
        if (dist == null || dist.tpSize() == 1) {
            return parameters;
        }
        List<Parameter> counted = new ArrayList<>();
        for (Parameter p : parameters) {
            boolean replicated = !(p instanceof ColoParameter colo) || colo.isReplicated();
            if (!replicated || dist.tpRank() == 0) {
                counted.add(p);
            }
        }
        return counted;
    }

    // ---- checkpoints ----------------------------------------------------------------------------

    /** Writes checkpoint-{step} atomically, updates {@code latest}, losses.csv and loss.png; returns its path. */
    public Path checkpoint(double elapsedSeconds) throws IOException {
        if (dist == null) {
            return lastCheckpoint = write(elapsedSeconds, optimizer().stateTensors());
        }
        // a sharded optimizer gathers its moments into this scope's memory; freed once written
        try (MemoryScope scope = MemoryScope.open()) {
            Map<String, Tensor> moments = GatheredParameters.gatherLike(optimizer().stateTensors(), model.module().namedParameters());
            try (GatheredParameters whole = GatheredParameters.open(model.module())) {
                return lastCheckpoint = writer ? write(elapsedSeconds, moments) : store().pathOf(step);
            }
        }
    }

    private CheckpointStore store() {
        return new CheckpointStore(saveDir, keepCheckpoints);
    }

    private Path write(double elapsedSeconds, Map<String, Tensor> optimizerState) throws IOException {
        CheckpointStore store = store();
        Path target = store.publish(step, staged -> TrainCheckpoint.write(staged, new TrainCheckpoint.Run(model, data, config), step, history, optimizerState,
                optimizer().stepCounts(), elapsedSeconds));
        history.writeCsv(saveDir.resolve(SaveFolder.LOSSES));
        try {
            LossCurve.write(saveDir.resolve("loss.png"), history.losses().stream().map(Float::doubleValue).toList(),
                    "training loss (" + data.source().replaceAll(".*/", "") + ")");
        } catch (IOException | RuntimeException | Error e) {
            if (out != null) {
                out.println("warning: could not draw loss.png: " + e);
            }
        }
        if (overwrite && !resumed && !replacedPrevious) {
            store.pruneAllBut(step); // the replaced run's checkpoints go once this run has one
            replacedPrevious = true;
        } else {
            store.prune(step);
        }
        return target;
    }

    /** The checkpoint a path names: a checkpoint folder itself, or a save folder with a {@code latest} file. */
    public static Path resolveCheckpoint(Path path) throws IOException {
        return TrainCheckpoint.resolve(path);
    }

    /**
     * Restores the model, optimizer, step and history from a checkpoint (or a save folder's latest). The
     * model architecture, batch, seq, seed and data must be those the checkpoint was trained with.
     */
    public Trainer resume(Path path) throws IOException {
        TrainCheckpoint.Restored restored = TrainCheckpoint.restore(path, new TrainCheckpoint.Run(model, data, config), optimizer(), history);
        step = restored.step();
        previousSeconds = restored.elapsedSeconds();
        resumed = true;
        lastCheckpoint = restored.checkpoint();
        if (out != null) {
            out.println("resumed from " + restored.checkpoint() + " at step " + step);
            if (restored.verification() == CheckpointManifest.Verification.NO_CHECKSUMS) {
                out.println(CheckpointManifest.unverifiedNote(restored.checkpoint()));
            }
        }
        return this;
    }
}
