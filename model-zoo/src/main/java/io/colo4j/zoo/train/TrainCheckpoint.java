package io.colo4j.zoo.train;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.ops.optim.Optimizer;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.io.AtomicFiles;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.SafeTensorsWriter;
import io.colo4j.zoo.io.ShardReads;
import java.io.IOException;
import java.nio.file.Files;
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
    record Restored(Path checkpoint, long step, double elapsedSeconds) {}

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
     * after checking that it belongs to {@code run}; nothing changes when it does not.
     */
    static Restored restore(Path path, Run run, Optimizer optimizer, TrainHistory history) throws IOException {
        Path cp = resolve(path);
        JsonNode state = readState(cp);
        long step = state.path("step").asLong(-1);
        List<String> problems = mismatches(state, run);
        JsonNode losses = state.path("losses");
        if (step < 0 || !losses.isArray() || losses.size() != step) {
            problems.add("step " + step + " and the loss history of " + losses.size() + " entries disagree");
        }
        if (!problems.isEmpty()) {
            throw new IOException("cannot resume from " + cp + ": " + String.join("; ", problems));
        }
        Map<String, Long> optimizerSteps = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : state.path("optimizer_steps").properties()) {
            optimizerSteps.put(e.getKey(), e.getValue().asLong());
        }
        loadOptimizer(cp.resolve(OPTIMIZER), run.model(), optimizer, optimizerSteps);
        run.model().load(cp);
        history.readJson(state);
        return new Restored(cp, step, state.path("elapsed_seconds").asDouble(0));
    }

    private static JsonNode readState(Path cp) throws IOException {
        JsonNode state;
        try {
            state = JSON.readTree(Files.readAllBytes(cp.resolve(STATE)));
        } catch (JacksonException e) {
            throw new IOException(cp.resolve(STATE) + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!FORMAT.equals(state.path("format").asText())) {
            throw new IOException(cp.resolve(STATE) + ": not a colo4j training checkpoint (format '" + state.path("format").asText() + "')");
        }
        return state;
    }

    /** How the checkpoint's run differs from {@code run} in what must be equal to resume. */
    private static List<String> mismatches(JsonNode state, Run run) throws IOException {
        List<String> problems = new ArrayList<>();
        TrainConfig config = run.config();
        TokenData data = run.data();
        if (!state.path("model_config").equals(JSON.readTree(run.model().configJson()))) {
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
