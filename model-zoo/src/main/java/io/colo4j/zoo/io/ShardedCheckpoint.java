package io.colo4j.zoo.io;

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
import io.colo4j.zoo.train.CheckpointManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint that never gathers: each tp rank writes its own shards to {@code rank-R-of-N.safetensors}
 * and rank 0 writes {@code index.json} with every parameter's spec, global and valid (unpadded) shape.
 * It loads at any tp: each parameter is reassembled from the saved shards it overlaps and cut to the
 * loading rank's layout. Saving is a collective over the tp group of dp rank 0; the folder appears
 * under its final name only when every rank has written its file, with the checksums of them all
 * ({@link CheckpointManifest}). Loading verifies them first and reads the index strictly ({@link ShardedIndex}:
 * every field's type and range, each shard's tensors of the shape the index says), naming the file at fault.
 */
public final class ShardedCheckpoint {
    public static final String INDEX = "index.json";
    static final String FORMAT = "colo4j-sharded-checkpoint/1";
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
            CheckpointManifest.write(staged); // every rank's file is complete here
            AtomicFiles.publishDirectory(staged, dir);
        }
        context.tp().barrier();
    }

    /** Loads into {@code model}'s parameters, whatever tp it was saved at and whatever tp (or none) it runs at now. */
    public static void load(Module model, Path dir) throws IOException {
        if (CheckpointManifest.verify(dir, List.of(INDEX)) == CheckpointManifest.Verification.NO_CHECKSUMS) {
            System.err.println(CheckpointManifest.unverifiedNote(dir));
        }
        ShardedIndex index = ShardedIndex.read(dir.resolve(INDEX));
        List<String> shards = new ArrayList<>();
        for (int r = 0; r < index.tp(); r++) {
            shards.add(shardFile(r, index.tp()));
        }
        CheckpointManifest.verify(dir, shards); // already checked above: only that the manifest covers them
        int savedTp = index.tp();
        Map<String, ShardedIndex.Entry> params = index.parameters();
        Map<String, Parameter> own = model.namedParameters();
        List<String> problems = new ArrayList<>();
        for (String name : params.keySet()) {
            if (!own.containsKey(name)) {
                problems.add("unexpected parameter " + name);
            }
        }
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            ShardedIndex.Entry entry = params.get(e.getKey());
            if (entry == null) {
                problems.add("missing parameter " + e.getKey());
            } else if (!java.util.Arrays.equals(entry.valid(), e.getValue().fullShape())) {
                problems.add(e.getKey() + " has shape " + java.util.Arrays.toString(entry.valid()) + " in the checkpoint but "
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
                ShardedIndex.Entry entry = params.get(e.getKey());
                try (MemoryScope scope = MemoryScope.open(); GradMode.Guard ignored = GradMode.disabled()) {
                    Tensor whole = reassemble(readers, e.getKey(), entry.layout(), savedTp);
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

    private static Tensor reassemble(List<SafeTensorsReader> readers, String name, ShardLayout layout, int savedTp)
            throws IOException {
        boolean whole = layout.spec() instanceof ReplicaSpec || savedTp == 1;
        List<Tensor> locals = new ArrayList<>(savedTp);
        for (SafeTensorsReader reader : whole ? readers.subList(0, 1) : readers) {
            int[] expected = whole ? layout.globalShape() : layout.localShape();
            int[] found = reader.info(name).shape();
            if (!java.util.Arrays.equals(found, expected)) {
                throw new IOException(reader.file() + ": tensor " + name + " has shape " + java.util.Arrays.toString(found) + " but "
                        + INDEX + " says " + java.util.Arrays.toString(expected) + " (" + (whole ? "whole" : "one rank's shard") + ")");
            }
            locals.add(reader.read(name));
        }
        return whole ? locals.get(0) : Shards.assemble(locals, layout);
    }
}
