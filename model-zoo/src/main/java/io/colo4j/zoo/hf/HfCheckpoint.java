package io.colo4j.zoo.hf;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.io.SafeTensorsException;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.SafeTensorsWriter;
import io.colo4j.zoo.io.ShardReads;
import io.colo4j.zoo.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/**
 * One family's HF model folder: {@code config.json} (its {@link HfConfigFormat}) + {@code model.safetensors}
 * with HF's keys, mapped onto the model's parameter names by the family's {@link KeyMap}. The expected
 * tensors and their shapes are the built model's own, never retyped. Missing, unexpected, duplicate,
 * mis-shaped or unreadable tensors are reported, all at once, before any parameter is written; loading
 * into a sharded model reads each rank's shard only (a parameter stored in parts reads its parts whole,
 * then keeps its shard).
 *
 * @param label   the family as error messages name it ({@code GPT-2})
 * @param config  how its config.json reads and writes
 * @param builder a model of a config, from a seed
 * @param keys    HF keys <-> parameter names
 */
public record HfCheckpoint<C extends Record & HfConfig, M extends HfModel<C>>(String label, HfConfigFormat<C> config,
                                                                                          BiFunction<C, Long, M> builder, KeyMap keys) {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";

    /** Reads {@code dir/config.json}. */
    public C readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.exists(file)) {
            throw new IOException(dir + ": not a " + label + " model folder (no " + CONFIG + ")");
        }
        return config.read(file);
    }

    /** A model built from {@code dir/config.json} with the weights of {@code dir/model.safetensors}. */
    public M load(Path dir) throws IOException {
        C c = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        M model = builder.apply(c, 0L);
        loadWeights(model, weights);
        return model;
    }

    /** Overwrites {@code model}'s parameters (or their shards) with {@code weights}; nothing is written unless all fit. */
    public void loadWeights(Module model, Path weights) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            Map<String, List<String>> plan = plan(reader, ShardReads.fullShapes(model));
            Map<String, Parameter> params = model.namedParameters();
            for (Map.Entry<String, List<String>> e : plan.entrySet()) {
                Parameter p = params.get(e.getKey());
                List<String> files = e.getValue();
                if (files.size() == 1) {
                    ShardReads.readParameter(reader, files.get(0), p);
                    continue;
                }
                Tensor[] parts = new Tensor[files.size()];
                for (int i = 0; i < parts.length; i++) {
                    parts[i] = reader.read(files.get(i));
                }
                Tensor mine = ShardReads.sliceLike(Tensor.cat(0, parts), p);
                try (GradMode.Guard ignored = GradMode.disabled()) {
                    p.copyFrom(mine);
                }
            }
        }
    }

    /** The file tensors each parameter is read from (one, or its parts), after every check has passed. */
    Map<String, List<String>> plan(SafeTensorsReader reader, Map<String, int[]> expected) throws SafeTensorsException {
        Map<String, List<String>> plan = new LinkedHashMap<>();
        Map<String, String[]> parts = new LinkedHashMap<>();
        Map<String, String> standIns = new LinkedHashMap<>();
        TreeSet<String> unexpected = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (TensorInfo info : reader.tensors().values()) {
            String name = info.name();
            String key = keys.canonical(name);
            if (keys.isIgnored(key) || (!expected.containsKey(key) && keys.isOptional(key))) {
                continue;
            }
            if (!info.dtype().convertsToFloat()) {
                problems.add("'" + name + "' has dtype " + info.dtype() + ", which cannot be read as float32");
            }
            KeyMap.Tied tied = keys.tiedFor(key);
            if (tied != null) {
                int[] target = expected.get(tied.target());
                if (!Arrays.equals(info.shape(), target)) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but a tied copy of " + tied.target()
                            + " must be " + Arrays.toString(target) + " (" + tied.note() + ")");
                } else if (tied.standsIn()) {
                    standIns.putIfAbsent(tied.target(), name);
                }
                continue;
            }
            if (partOf(key, info, name, expected, parts, problems)) {
                continue;
            }
            if (!expected.containsKey(key)) {
                unexpected.add(name);
                continue;
            }
            List<String> previous = plan.putIfAbsent(key, List.of(name));
            if (previous != null) {
                problems.add("'" + previous.get(0) + "' and '" + name + "' both name parameter " + key);
                continue;
            }
            checkShape(name, info.shape(), expected.get(key), problems);
        }
        standIns.forEach((target, file) -> plan.putIfAbsent(target, List.of(file)));
        TreeSet<String> missing = new TreeSet<>();
        for (String name : expected.keySet()) {
            KeyMap.Fused fused = fusedFor(name);
            String stem = fused == null ? null : name.substring(0, name.length() - fused.suffix().length());
            if (plan.containsKey(name)) {
                if (fused != null && parts.containsKey(name)) {
                    problems.add("'" + name + "' and HF's " + fused.parts() + " weights both give " + name);
                }
            } else if (fused != null) {
                String[] found = parts.getOrDefault(name, new String[fused.parts().size()]);
                List<String> absent = new ArrayList<>();
                for (int i = 0; i < found.length; i++) {
                    if (found[i] == null) {
                        absent.add(stem + fused.parts().get(i));
                    }
                }
                if (absent.isEmpty()) {
                    plan.put(name, List.of(found));
                }
                missing.addAll(absent);
            } else if (!keys.isOptional(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            StringBuilder notes = new StringBuilder();
            keys.missingNotes().forEach((n, note) -> notes.append(missing.contains(n) ? " (" + note + ")" : ""));
            problems.add(0, "missing tensors " + missing + notes);
        }
        if (!unexpected.isEmpty()) {
            problems.add(0, "unexpected tensors " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new SafeTensorsException(reader.file(), null, "does not fit the " + label + " model: " + String.join("; ", problems));
        }
        return plan;
    }

    /** Whether file tensor {@code key} is one part of a parameter HF stores in parts; if so it is noted in {@code parts}. */
    private boolean partOf(String key, TensorInfo info, String name, Map<String, int[]> expected, Map<String, String[]> parts,
                           List<String> problems) {
        for (KeyMap.Fused f : keys.fused()) {
            for (int i = 0; i < f.parts().size(); i++) {
                String part = f.parts().get(i);
                if (!key.endsWith(part)) {
                    continue;
                }
                String whole = key.substring(0, key.length() - part.length()) + f.suffix();
                if (!expected.containsKey(whole)) {
                    continue;
                }
                int[] shape = expected.get(whole).clone();
                shape[0] /= f.parts().size();
                checkShape(name, info.shape(), shape, problems);
                parts.computeIfAbsent(whole, x -> new String[f.parts().size()])[i] = name;
                return true;
            }
        }
        return false;
    }

    private KeyMap.Fused fusedFor(String name) {
        return keys.fused().stream().filter(f -> name.endsWith(f.suffix())).findFirst().orElse(null);
    }

    private static void checkShape(String name, int[] shape, int[] expected, List<String> problems) {
        if (!Arrays.equals(shape, expected)) {
            problems.add("'" + name + "' has shape " + Arrays.toString(shape) + " but the model expects " + Arrays.toString(expected));
        }
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors} with HF's full keys (parts split, tied copies omitted). */
    public void save(M model, Path dir) throws IOException {
        save(model, dir, UnaryOperator.identity());
    }

    /** As {@link #save(Module, Path)}, each key passed through {@code rename} (e.g. {@link KeyMap#bare}, a bare export's keys). */
    public void save(M model, Path dir, UnaryOperator<String> rename) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            List<String> files = keys.fileNames(name);
            if (files.size() == 1) {
                state.put(rename.apply(files.get(0)), p);
                return;
            }
            Tensor whole = p.detach();
            int rows = whole.size(0) / files.size();
            for (int i = 0; i < files.size(); i++) {
                state.put(rename.apply(files.get(i)), whole.narrow(0, i * rows, rows).copy());
            }
        });
        SafeTensorsWriter.write(dir.resolve(WEIGHTS), state, Map.of("format", "pt"));
        model.config().write(dir.resolve(CONFIG));
    }
}
