package io.colo4j.zoo.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.ops.optim.Optimizer;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.io.AtomicFiles;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.SafeTensorsWriter;
import io.colo4j.zoo.io.ShardReads;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one training checkpoint holds: the model folder ({@link LanguageModel#save}), the optimizer's moments
 * whole per parameter ({@code optimizer.safetensors}) and {@code trainer.json} (step, history, per-parameter
 * optimizer step counts, and the config, model architecture and data checksum a resumed run must match).
 * Written into the folder {@link CheckpointStore} stages; restored into a run's model and optimizer, each rank
 * reading its shards.
 */
final class TrainCheckpoint {
    static final String STATE = "trainer.json";
    static final String OPTIMIZER = "optimizer.safetensors";
    private static final String FORMAT = "colo4j-train-checkpoint/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The run a checkpoint belongs to: its architecture, batch, seq, seed and data must match to resume. */
    record Run(LanguageModel model, TokenData data, TrainConfig config) {}

    /** Where a restored run stands. */
    record Restored(Path checkpoint, long step, double elapsedSeconds, CheckpointManifest.Verification verification) {}

    private TrainCheckpoint() {}

    /** The checkpoint a path names: a checkpoint folder itself, or a save folder with a {@code latest} file. */
    static Path resolve(Path path) throws IOException {
        return CheckpointStore.resolve(path, STATE);
    }

    /** Writes the checkpoint's three parts into {@code dir}. */
    static void write(Path dir, Run run, long step, TrainHistory history, Map<String, Tensor> optimizerState,
                      Map<String, Long> optimizerSteps, double elapsedSeconds) throws IOException {
        run.model().save(dir);
        SafeTensorsWriter.write(dir.resolve(OPTIMIZER), optimizerState, Map.of("format", "colo4j-adamw"));
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("step", step);
        o.set("train_config", JSON.valueToTree(run.config()));
        o.set("model_config", JSON.readTree(run.model().configJson()));
        ObjectNode d = o.putObject("data");
        d.put("source", run.data().source());
        d.put("tokens", run.data().size());
        d.put("crc32", run.data().checksum());
        history.writeJson(o);
        ObjectNode steps = o.putObject("optimizer_steps");
        optimizerSteps.forEach(steps::put);
        o.put("elapsed_seconds", elapsedSeconds);
        AtomicFiles.writeString(dir.resolve(STATE), JSON.writeValueAsString(o) + "\n");
    }

    /**
     * Restores the model, the optimizer and {@code history} from a checkpoint (or a save folder's latest),
     * after checking its files against their checksums, reading {@code trainer.json} strictly and checking that
     * it belongs to {@code run}; nothing changes when it does not.
     */
    static Restored restore(Path path, Run run, Optimizer optimizer, TrainHistory history) throws IOException {
        Path cp = resolve(path);
        CheckpointManifest.Verification verified = CheckpointManifest.verify(cp, List.of(STATE, OPTIMIZER, HfCheckpoint.CONFIG, HfCheckpoint.WEIGHTS));
        TrainState state = TrainState.read(cp.resolve(STATE), FORMAT);
        List<String> problems = mismatches(state, run);
        if (!problems.isEmpty()) {
            throw new IOException("cannot resume from " + cp + ": " + String.join("; ", problems));
        }
        loadOptimizer(cp.resolve(OPTIMIZER), run.model(), optimizer, state.optimizerSteps());
        run.model().load(cp);
        history.restore(state.losses(), state.lrs(), state.gradNorms(), state.skippedSteps());
        return new Restored(cp, state.step(), state.elapsedSeconds(), verified);
    }

    /** How the checkpoint's run differs from {@code run} in what must be equal to resume. */
    private static List<String> mismatches(TrainState state, Run run) throws IOException {
        List<String> problems = new ArrayList<>();
        TrainConfig config = run.config();
        TokenData data = run.data();
        if (!state.modelConfig().equals(JSON.readTree(run.model().configJson()))) {
            problems.add("the model architecture differs (checkpoint " + state.modelConfig() + ")");
        }
        if (state.batch() != config.batch() || state.seq() != config.seq() || state.seed() != config.seed()) {
            problems.add("batch/seq/seed differ: the checkpoint used batch " + state.batch() + ", seq " + state.seq()
                    + ", seed " + state.seed() + "; this run has " + config.batch() + ", " + config.seq() + ", " + config.seed());
        }
        if (state.dataCrc32() != data.checksum() || state.dataTokens() != data.size()) {
            problems.add("the data differs from the checkpoint's (" + state.dataTokens() + " tokens from " + state.dataSource() + ")");
        }
        if (config.steps() < state.step()) {
            problems.add("--steps " + config.steps() + " is below the " + state.step() + " steps the checkpoint has completed; give --steps "
                    + state.step() + " or more");
        }
        Map<String, Parameter> parameters = run.model().module().namedParameters();
        for (String name : state.optimizerSteps().keySet()) {
            if (!parameters.containsKey(name)) {
                problems.add(STATE + " field 'optimizer_steps." + name + "' names no parameter of this model");
            }
        }
        return problems;
    }

    /** The whole moments of each parameter, cut to this rank's shard of it, into the optimizer. */
    private static void loadOptimizer(Path file, LanguageModel model, Optimizer optimizer, Map<String, Long> steps) throws IOException {
        try (MemoryScope scope = MemoryScope.open(); SafeTensorsReader reader = SafeTensorsReader.open(file)) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            Map<String, Parameter> byName = model.module().namedParameters();
            for (Map.Entry<String, Tensor> e : reader.readAll().entrySet()) {
                Parameter p = byName.get(e.getKey().substring(0, Math.max(0, e.getKey().lastIndexOf('.'))));
                state.put(e.getKey(), p == null ? e.getValue() : ShardReads.sliceLike(e.getValue(), p));
            }
            try {
                optimizer.loadState(state, steps);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
        }
    }
}
