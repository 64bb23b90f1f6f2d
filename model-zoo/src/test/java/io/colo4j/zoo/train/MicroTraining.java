package io.colo4j.zoo.train;

import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.hf.HfLanguageModel;
import io.colo4j.zoo.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** {@link TrainerTest}'s micro GPT-2 run for the checkpoint and save-folder tests, and what they look at. */
final class MicroTraining {
    private static TokenData data;

    private MicroTraining() {}

    static synchronized TokenData data() {
        if (data == null) {
            try {
                data = TokenData.bundled(ByteTokenizer.INSTANCE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return data;
    }

    static LanguageModel model() {
        return new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, new Gpt2Model(TrainerTest.MICRO, 5));
    }

    static Trainer trainer(TrainConfig config) {
        return new Trainer(model(), data(), config);
    }

    static Trainer trainer(LanguageModel model, TrainConfig config) {
        return new Trainer(model, data(), config);
    }

    /** The hidden entries of a save folder: what a checkpoint writer left behind. */
    static List<String> litter(Path save) throws IOException {
        try (Stream<Path> list = Files.list(save)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).sorted().toList();
        }
    }

    /** Every parameter's values, by name. */
    static Map<String, float[]> weights(LanguageModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.module().namedParameters().forEach((name, p) -> out.put(name, ((Tensor) p).toFloatArray()));
        return out;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
