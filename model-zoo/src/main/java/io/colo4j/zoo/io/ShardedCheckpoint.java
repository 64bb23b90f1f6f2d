package io.colo4j.zoo.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.json.SpecJson;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.Shards;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint that never gathers: each tp rank writes its own shards to {@code rank-R-of-N.safetensors}
 * and rank 0 writes {@code index.json} with every parameter's spec, global and valid (unpadded) shape.
 * It loads at any tp: each parameter is reassembled from the saved shards it overlaps and cut to the
 * loading rank's layout. Saving is a collective over the tp group of dp rank 0; the folder appears
 * under its final name only when every rank has written its file.
 */
public final class ShardedCheckpoint {
    public static final String INDEX = "index.json";
    private static final String FORMAT = "colo4j-sharded-checkpoint/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ShardedCheckpoint() {}

    static String shardFile(int rank, int tp) {
        return "rank-" + rank + "-of-" + tp + ".safetensors";
    }

    /** Collective: every rank calls it; the tp group of dp rank 0 writes. */
    public static void save(Module model, Path dir, DistContext context) throws IOException {
        int tp = context.tpSize();
        int rank = context.tpRank();
        boolean writes = context.rank().dpRank() == 0;
        Path staged = dir.resolveSibling("." + dir.getFileName() + ".sharded-tmp");
        if (writes && rank == 0) {
            AtomicFiles.deleteRecursively(staged);
            Files.createDirectories(staged);
        }
        context.tp().barrier();
        if (writes) {
            Map<String, Tensor> local = new LinkedHashMap<>();
            ObjectNode index = JSON.createObjectNode();
            index.put("format", FORMAT);
            index.put("tp", tp);
            ObjectNode params = index.putObject("parameters");
            model.namedParameters().forEach((name, p) -> {
                local.put(name, p.detach());
                ObjectNode entry = params.putObject(name);
                DistSpec spec = p instanceof ColoParameter c ? c.spec() : ReplicaSpec.INSTANCE;
                entry.set("spec", SpecJson.mapper().valueToTree(spec));
                entry.set("global_shape", JSON.valueToTree(p.isDistributed() ? io.colo4j.tensor.colo.ColoTensor.dist(p).globalShape() : p.shape()));
                entry.set("valid_shape", JSON.valueToTree(p.fullShape()));
            });
            SafeTensorsWriter.write(staged.resolve(shardFile(rank, tp)), local, Map.of("format", FORMAT));
            if (rank == 0) {
                AtomicFiles.writeString(staged.resolve(INDEX), JSON.writeValueAsString(index));
            }
        }
        context.tp().barrier();
        if (writes && rank == 0) {
            AtomicFiles.publishDirectory(staged, dir);
        }
        context.tp().barrier();
    }

    /** Loads into {@code model}'s parameters, whatever tp it was saved at and whatever tp (or none) it runs at now. */
    public static void load(Module model, Path dir) throws IOException {
        JsonNode index = JSON.readTree(Files.readAllBytes(dir.resolve(INDEX)));
        if (!FORMAT.equals(index.path("format").asText())) {
            throw new IOException(dir.resolve(INDEX) + ": not a colo4j sharded checkpoint (format '" + index.path("format").asText() + "')");
        }
        int savedTp = index.path("tp").asInt();
        JsonNode params = index.path("parameters");
        Map<String, Parameter> own = model.namedParameters();
        List<String> problems = new ArrayList<>();
        for (Iterator<String> it = params.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!own.containsKey(name)) {
                problems.add("unexpected parameter " + name);
            }
        }
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            JsonNode entry = params.path(e.getKey());
            if (entry.isMissingNode()) {
                problems.add("missing parameter " + e.getKey());
            } else if (!java.util.Arrays.equals(shape(entry.path("valid_shape")), e.getValue().fullShape())) {
                problems.add(e.getKey() + " has shape " + entry.path("valid_shape") + " in the checkpoint but "
                        + java.util.Arrays.toString(e.getValue().fullShape()) + " in the model");
            }
        }
        if (!problems.isEmpty()) {
            throw new IOException(dir + ": does not fit the model: " + String.join("; ", problems));
        }
        List<SafeTensorsReader> readers = new ArrayList<>();
        try {
            for (int r = 0; r < savedTp; r++) {
                readers.add(SafeTensorsReader.open(dir.resolve(shardFile(r, savedTp))));
            }
            for (Map.Entry<String, Parameter> e : own.entrySet()) {
                JsonNode entry = params.path(e.getKey());
                DistSpec spec = SpecJson.mapper().treeToValue(entry.path("spec"), DistSpec.class);
                int[] global = shape(entry.path("global_shape"));
                try (MemoryScope scope = MemoryScope.open(); GradMode.Guard ignored = GradMode.disabled()) {
                    Tensor whole = reassemble(readers, e.getKey(), spec, global, savedTp);
                    int[] valid = e.getValue().fullShape();
                    Tensor unpadded = whole;
                    for (int d = 0; d < valid.length; d++) {
                        unpadded = unpadded.narrow(d, 0, valid[d]);
                    }
                    Parameter p = e.getValue();
                    Tensor mine = ShardReads.sliceLike(unpadded.copy(), p);
                    if (!p.isMaterialized()) {
                        try (MemoryScope persistent = MemoryScope.persistent()) {
                            p.setData(Tensor.zeros(mine.shape()));
                        }
                    }
                    p.copyFrom(mine);
                }
            }
        } finally {
            for (SafeTensorsReader r : readers) {
                r.close();
            }
        }
    }

    private static Tensor reassemble(List<SafeTensorsReader> readers, String name, DistSpec spec, int[] global, int savedTp)
            throws IOException {
        if (spec instanceof ReplicaSpec || savedTp == 1) {
            return readers.get(0).read(name);
        }
        ShardLayout layout = ShardLayout.of(name, global, spec, savedTp);
        List<Tensor> locals = new ArrayList<>(savedTp);
        for (SafeTensorsReader reader : readers) {
            locals.add(reader.read(name));
        }
        return Shards.assemble(locals, layout);
    }

    private static int[] shape(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
