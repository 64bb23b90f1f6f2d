package io.colo4j.zoo.hf;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.io.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** What the checkpoint tests of every family share: hand-made model folders and the check that two models hold the same weights. */
public final class ModelFolders {
    private ModelFolders() {}

    /** A model folder {@code dir} holding {@code config} and exactly the tensors {@code state} (as an HF export might). */
    public static Path write(Path dir, HfConfig config, Map<String, Tensor> state) throws IOException {
        Files.createDirectories(dir);
        SafeTensorsWriter.write(dir.resolve(HfCheckpoint.WEIGHTS), state);
        config.write(dir.resolve(HfCheckpoint.CONFIG));
        return dir;
    }

    /** {@code b} has {@code a}'s parameters, in its order, with bit-identical values. */
    public static void assertSameWeights(Module a, Module b) {
        assertThat(b.namedParameters().keySet()).containsExactlyElementsOf(a.namedParameters().keySet());
        a.namedParameters().forEach((name, p) ->
                assertThat(b.namedParameters().get(name).toFloatArray()).as(name).containsExactly(p.toFloatArray()));
    }
}
