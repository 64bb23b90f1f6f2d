package io.colo4j.zoo.train;

import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.zoo.io.ShardReads;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.ops.optim.LrSchedule;
import io.colo4j.ops.optim.Optimizer;
import io.colo4j.ops.optim.ZeroAdamW;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.comm.PeerProcesses;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.io.AtomicFiles;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.SafeTensorsWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Trains a causal language model on a token stream: per step a deterministic batch (see
 * {@link TokenData#batch}), forward + backward inside a {@link MemoryScope}, global-norm clipping,
 * AdamW with linear warmup + cosine decay. Same model init, data and config give bit-identical losses.
 *
 * <p>With a save folder it writes {@code losses.csv} and {@code loss.png} and checkpoints every
 * {@code saveEvery} steps and at the end, each atomically as {@code checkpoint-<step>/} (the model folder,
 * {@code optimizer.safetensors}, {@code trainer.json} with the step, losses, seed and data checksum) and a
 * {@code latest} file naming it. {@link #resume} restores one, and the run continues with exactly the
 * losses an uninterrupted run would have had.
 */
public final class Trainer {
    public static final String LATEST = "latest";
    public static final String STATE = "trainer.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    private static final String FORMAT = "colo4j-train-checkpoint/1";
    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
    /** A checkpoint being written: {@code .checkpoint-<step>.tmp-<pid>@<host>-<nanos>}. */
    private static final Pattern STAGED = Pattern.compile("\\.checkpoint-\\d+\\.tmp-(\\d+)@(.+)-\\d+");
    /** This process as a checkpoint writer: pid@host (the host name made file-name safe). */
    static final String WRITER = ProcessHandle.current().pid() + "@" + PeerProcesses.hostName().replaceAll("[^A-Za-z0-9._-]", "_");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final LanguageModel model;
    private final TokenData data;
    private final TrainConfig config;
    private Optimizer optimizer;
    private ZeroAdamW zero;
    private final LrSchedule schedule;
    private final List<Parameter> parameters;
    private final List<Float> losses = new ArrayList<>();
    private final List<Double> lrs = new ArrayList<>();
    private final List<Double> gradNorms = new ArrayList<>();
    private Path saveDir;
    private DoubleUnaryOperator normReduction = DoubleUnaryOperator.identity();
    private int keepCheckpoints = 2;
    private PrintStream out;
    private boolean terminal;
    private long step;
    private double previousSeconds;
    private DistContext dist;
    private boolean writer = true;

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
            throw new IllegalArgumentException("the data (" + data.size() + " tokens) is shorter than one window of seq + 1 = " + (config.seq() + 1));
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

    /** This rank's parameter, gradient and optimizer memory, with the sizing formula beside it. */
    public MemoryReport memory() {
        return MemoryReport.of(parameters, optimizer().stateBytes(), dist == null ? 1 : dist.tpSize(),
                dist == null ? 1 : dist.dp().size(), zero == null ? 0 : zero.stage());
    }

    /** Steps completed so far (including those restored by {@link #resume}). */
    public long step() {
        return step;
    }

    /** Every loss so far, step 0 first. */
    public List<Float> losses() {
        return Collections.unmodifiableList(losses);
    }

    // ---- the loop -------------------------------------------------------------------------------

    public Result run() throws IOException {
        long first = step;
        Progress progress = new Progress(out == null ? new PrintStream(PrintStream.nullOutputStream()) : out, terminal,
                config.steps(), first, config.logEvery(), (long) config.batch() * config.seq());
        Path last = null;
        Optimizer optimizer = optimizer();
        if (out != null && dist != null) {
            out.println(memory());
        }
        model.module().train(true);
        while (step < config.steps()) {
            double lr = schedule.lr(step);
            optimizer.setLr(lr);
            float loss;
            try (MemoryScope scope = MemoryScope.open()) {
                IntTensor[] xy = data.batch(config.seed(), step, config.batch(), config.seq());
                if (dist != null && dist.dp().size() > 1) {
                    xy = dataParallelSlice(xy);
                }
                Tensor l = model.loss(xy[0], xy[1], step);
                l.backward();
                loss = l.item();
                if (dist != null) {
                    loss = averageOverDp(loss);
                    if (zero != null) {
                        zero.reduceGradients();
                    } else {
                        DataParallel.averageGradients(model.module(), dist);
                    }
                }
            }
            if (!Float.isFinite(loss)) {
                optimizer.zeroGrad();
                throw new IllegalStateException("step " + step + ": the loss is " + loss + " (diverged); lower --lr or raise --warmup");
            }
            double norm = zero != null ? zero.clip(countedInNorm(), config.clip(), normReduction)
                    : GradClip.clip(countedInNorm(), parameters, config.clip(), normReduction);
            if (!Double.isFinite(norm)) {
                optimizer.zeroGrad();
                throw new IllegalStateException("step " + step + ": the gradient norm is " + norm + "; lower --lr or set --clip");
            }
            optimizer.step();
            optimizer.zeroGrad();
            losses.add(loss);
            lrs.add(lr);
            gradNorms.add(norm);
            step++;
            progress.update(step, loss, lr, norm);
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
                    first, step - 1, seconds, losses.get((int) first), losses.get(losses.size() - 1), tokPerSec,
                    last == null ? "" : ", checkpoint " + last));
        }
        return new Result(List.copyOf(losses.subList((int) first, losses.size())), first, step, seconds, tokPerSec, last);
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
            return write(elapsedSeconds, optimizer().stateTensors());
        }
        // a sharded optimizer gathers its moments into this scope's memory; freed once written
        try (MemoryScope scope = MemoryScope.open()) {
            Map<String, Tensor> moments = GatheredParameters.gatherLike(optimizer().stateTensors(), model.module().namedParameters());
            try (GatheredParameters whole = GatheredParameters.open(model.module())) {
                return writer ? write(elapsedSeconds, moments) : saveDir.resolve(String.format(Locale.ROOT, "checkpoint-%d", step));
            }
        }
    }

    private Path write(double elapsedSeconds, Map<String, Tensor> optimizerState) throws IOException {
        Files.createDirectories(saveDir);
        String name = String.format(Locale.ROOT, "checkpoint-%d", step);
        Path target = saveDir.resolve(name);
        Path staged = saveDir.resolve("." + name + ".tmp-" + WRITER + "-" + System.nanoTime());
        try {
            Files.createDirectories(staged);
            model.save(staged);
            SafeTensorsWriter.write(staged.resolve(OPTIMIZER), optimizerState, Map.of("format", "colo4j-adamw"));
            AtomicFiles.writeString(staged.resolve(STATE), stateJson(elapsedSeconds));
            AtomicFiles.publishDirectory(staged, target);
        } finally {
            AtomicFiles.deleteRecursively(staged);
        }
        AtomicFiles.writeString(saveDir.resolve(LATEST), name + "\n");
        writeCsv(saveDir.resolve("losses.csv"));
        try {
            LossCurve.write(saveDir.resolve("loss.png"), losses.stream().map(Float::doubleValue).toList(),
                    "training loss (" + data.source().replaceAll(".*/", "") + ")");
        } catch (IOException | RuntimeException | Error e) {
            if (out != null) {
                out.println("warning: could not draw loss.png: " + e);
            }
        }
        pruneCheckpoints();
        return target;
    }

    /**
     * Deletes all but the newest {@link #keepCheckpoints} checkpoints, and the staged folders of writers that
     * died mid-checkpoint (killed ranks leave them; nothing ever reads them, but each is as large as a
     * checkpoint). A staged folder is only deleted when its writer ran on this host and is no longer running.
     */
    private void pruneCheckpoints() throws IOException {
        List<long[]> found = new ArrayList<>();
        String host = WRITER.substring(WRITER.indexOf('@') + 1);
        try (Stream<Path> list = Files.list(saveDir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                Matcher m = CHECKPOINT.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    found.add(new long[] {Long.parseLong(m.group(1))});
                }
                Matcher s = STAGED.matcher(p.getFileName().toString());
                if (s.matches() && s.group(2).equals(host) && PeerProcesses.hasEnded(Long.parseLong(s.group(1)))) {
                    AtomicFiles.deleteRecursively(p);
                }
            }
        }
        found.sort((a, b) -> Long.compare(b[0], a[0]));
        for (int i = keepCheckpoints; i < found.size(); i++) {
            if (found.get(i)[0] != step) {
                AtomicFiles.deleteRecursively(saveDir.resolve("checkpoint-" + found.get(i)[0]));
            }
        }
    }

    private void writeCsv(Path csv) throws IOException {
        StringBuilder sb = new StringBuilder("step,loss,lr,grad_norm\n");
        for (int i = 0; i < losses.size(); i++) {
            sb.append(i).append(',').append(losses.get(i)).append(',')
                    .append(i < lrs.size() ? String.format(Locale.ROOT, "%.6e", lrs.get(i)) : "")
                    .append(',').append(i < gradNorms.size() ? String.format(Locale.ROOT, "%.6f", gradNorms.get(i)) : "")
                    .append('\n');
        }
        AtomicFiles.writeString(csv, sb.toString());
    }

    private String stateJson(double elapsedSeconds) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("step", step);
        o.set("train_config", JSON.valueToTree(config));
        o.set("model_config", JSON.readTree(model.configJson()));
        ObjectNode d = o.putObject("data");
        d.put("source", data.source());
        d.put("tokens", data.size());
        d.put("crc32", data.checksum());
        ArrayNode l = o.putArray("losses");
        losses.forEach(l::add);
        ArrayNode r = o.putArray("lrs");
        lrs.forEach(r::add);
        ArrayNode g = o.putArray("grad_norms");
        gradNorms.forEach(g::add);
        ObjectNode steps = o.putObject("optimizer_steps");
        optimizer().stepCounts().forEach(steps::put);
        o.put("elapsed_seconds", elapsedSeconds);
        return JSON.writeValueAsString(o) + "\n";
    }

    /** The checkpoint a path names: a checkpoint folder itself, or a save folder with a {@code latest} file. */
    public static Path resolveCheckpoint(Path path) throws IOException {
        if (Files.isRegularFile(path.resolve(STATE))) {
            return path;
        }
        Path latest = path.resolve(LATEST);
        if (Files.isRegularFile(latest)) {
            String name = Files.readString(latest, StandardCharsets.UTF_8).strip();
            Path cp = path.resolve(name);
            if (!CHECKPOINT.matcher(name).matches() || !Files.isRegularFile(cp.resolve(STATE))) {
                throw new IOException(latest + " names '" + name + "', which is not a checkpoint in " + path);
            }
            return cp;
        }
        throw new IOException(path + " is neither a checkpoint folder (no " + STATE + ") nor a save folder (no " + LATEST + ")");
    }

    /**
     * Restores the model, optimizer, step and history from a checkpoint (or a save folder's latest). The
     * model architecture, batch, seq, seed and data must be those the checkpoint was trained with.
     */
    public Trainer resume(Path path) throws IOException {
        Path cp = resolveCheckpoint(path);
        JsonNode state;
        try {
            state = JSON.readTree(Files.readAllBytes(cp.resolve(STATE)));
        } catch (JacksonException e) {
            throw new IOException(cp.resolve(STATE) + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!FORMAT.equals(state.path("format").asText())) {
            throw new IOException(cp.resolve(STATE) + ": not a colo4j training checkpoint (format '" + state.path("format").asText() + "')");
        }
        List<String> problems = new ArrayList<>();
        if (!state.path("model_config").equals(JSON.readTree(model.configJson()))) {
            problems.add("the model architecture differs (checkpoint " + state.path("model_config") + ")");
        }
        JsonNode tc = state.path("train_config");
        if (tc.path("batch").asInt() != config.batch() || tc.path("seq").asInt() != config.seq() || tc.path("seed").asLong() != config.seed()) {
            problems.add("batch/seq/seed differ: the checkpoint used batch " + tc.path("batch").asInt() + ", seq " + tc.path("seq").asInt()
                    + ", seed " + tc.path("seed").asLong() + "; this run has " + config.batch() + ", " + config.seq() + ", " + config.seed());
        }
        if (state.path("data").path("crc32").asLong() != data.checksum() || state.path("data").path("tokens").asLong() != data.size()) {
            problems.add("the data differs from the checkpoint's (" + state.path("data").path("tokens").asLong() + " tokens from "
                    + state.path("data").path("source").asText() + ")");
        }
        long savedStep = state.path("step").asLong(-1);
        JsonNode ls = state.path("losses");
        if (savedStep < 0 || !ls.isArray() || ls.size() != savedStep) {
            problems.add("step " + savedStep + " and the loss history of " + ls.size() + " entries disagree");
        }
        if (!problems.isEmpty()) {
            throw new IOException("cannot resume from " + cp + ": " + String.join("; ", problems));
        }
        Map<String, Long> stepCounts = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : state.path("optimizer_steps").properties()) {
            stepCounts.put(e.getKey(), e.getValue().asLong());
        }
        Map<String, Tensor> optState;
        try (MemoryScope scope = MemoryScope.open(); SafeTensorsReader reader = SafeTensorsReader.open(cp.resolve(OPTIMIZER))) {
            optState = new LinkedHashMap<>();
            Map<String, Parameter> byName = model.module().namedParameters();
            for (Map.Entry<String, Tensor> e : reader.readAll().entrySet()) {
                Parameter p = byName.get(e.getKey().substring(0, Math.max(0, e.getKey().lastIndexOf('.'))));
                optState.put(e.getKey(), p == null ? e.getValue() : ShardReads.sliceLike(e.getValue(), p));
            }
            try {
                optimizer().loadState(optState, stepCounts);
            } catch (IllegalArgumentException e) {
                throw new IOException(cp.resolve(OPTIMIZER) + ": " + e.getMessage(), e);
            }
        }
        model.load(cp);
        losses.clear();
        lrs.clear();
        gradNorms.clear();
        for (JsonNode v : ls) {
            losses.add(v.floatValue());
        }
        for (JsonNode v : state.path("lrs")) {
            lrs.add(v.doubleValue());
        }
        for (JsonNode v : state.path("grad_norms")) {
            gradNorms.add(v.doubleValue());
        }
        step = savedStep;
        previousSeconds = state.path("elapsed_seconds").asDouble(0);
        if (out != null) {
            out.println("resumed from " + cp + " at step " + step);
        }
        return this;
    }
}
