package io.colo4j.zoo.opt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.hf.ModelFolders;
import io.colo4j.zoo.io.SafeTensorsException;
import io.colo4j.zoo.io.SafeTensorsReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void savesAndLoadsBothKeyStyles() throws IOException {
        OptModel m = new OptModel(OptModelTest.micro().withPostLayerNorm(8), 21);
        OptCheckpoint.FORMAT.save(m, dir.resolve("causal-lm"));
        OptCheckpoint.FORMAT.save(m, dir.resolve("bare"), OptCheckpoint.KEYS::bare);
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("causal-lm/model.safetensors"))) {
            assertThat(r.names()).contains("model.decoder.embed_tokens.weight", "model.decoder.layers.1.fc2.bias")
                    .doesNotContain("lm_head.weight");
            assertThat(r.metadata()).containsEntry("format", "pt");
        }
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("bare/model.safetensors"))) {
            assertThat(r.names()).contains("decoder.embed_tokens.weight").noneMatch(n -> n.startsWith("model."));
        }
        ModelFolders.assertSameWeights(m, OptCheckpoint.FORMAT.load(dir.resolve("causal-lm")));
        ModelFolders.assertSameWeights(m, OptCheckpoint.FORMAT.load(dir.resolve("bare")));
        assertThat(OptCheckpoint.FORMAT.readConfig(dir.resolve("bare"))).isEqualTo(m.config());
    }

    @Test
    void acceptsATiedLmHeadAndNamesEveryMismatch() throws IOException {
        OptModel m = new OptModel(OptModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(m.stateDict());
        state.put("lm_head.weight", m.decoder().embedTokens().weight());
        Path ok = ModelFolders.write(dir.resolve("tied"), m.config(), state);
        ModelFolders.assertSameWeights(m, OptCheckpoint.FORMAT.load(ok));

        state.remove("model.decoder.layers.1.final_layer_norm.bias");
        state.put("model.decoder.layers.0.fc1.weight", Tensor.zeros(16, 32));
        state.put("model.decoder.extra.weight", Tensor.zeros(2));
        state.put("lm_head.weight", Tensor.zeros(41, 16));
        state.put("decoder.embed_positions.weight", Tensor.zeros(18, 16));
        Path bad = ModelFolders.write(dir.resolve("bad"), m.config(), state);
        OptModel target = new OptModel(OptModelTest.micro(), 99);
        float[] before = target.decoder().embedTokens().weight().toFloatArray();
        assertThatThrownBy(() -> OptCheckpoint.FORMAT.loadWeights(target, bad.resolve("model.safetensors")))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageContaining("missing tensors [model.decoder.layers.1.final_layer_norm.bias]")
                .hasMessageContaining("unexpected tensors [model.decoder.extra.weight]")
                .hasMessageContaining("model.decoder.layers.0.fc1.weight' has shape [16, 32]")
                .hasMessageContaining("untied LM heads are not supported")
                .hasMessageContaining("both name parameter model.decoder.embed_positions.weight");
        assertThat(target.decoder().embedTokens().weight().toFloatArray()).containsExactly(before);
    }
}
