package io.colo4j.zoo.llama;

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

class LlamaCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void savesAndLoadsAnHfFolder() throws IOException {
        LlamaModel m = new LlamaModel(LlamaModelTest.micro().withRopeTheta(500000.0), 21);
        LlamaCheckpoint.FORMAT.save(m, dir.resolve("m"));
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("m/model.safetensors"))) {
            assertThat(r.names()).contains("model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "lm_head.weight");
        }
        ModelFolders.assertSameWeights(m, LlamaCheckpoint.FORMAT.load(dir.resolve("m")));
        assertThat(LlamaCheckpoint.FORMAT.readConfig(dir.resolve("m"))).isEqualTo(m.config());
    }

    @Test
    void ignoresInvFreqBuffersAndNamesEveryMismatch() throws IOException {
        LlamaModel m = new LlamaModel(LlamaModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(m.stateDict());
        state.put("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor.ones(2));
        ModelFolders.assertSameWeights(m, LlamaCheckpoint.FORMAT.load(ModelFolders.write(dir.resolve("buffers"), m.config(), state)));

        state.remove("lm_head.weight");
        state.put("model.layers.0.self_attn.k_proj.weight", Tensor.zeros(16, 16));
        state.put("model.layers.0.self_attn.q_proj.bias", Tensor.zeros(16));
        Path bad = ModelFolders.write(dir.resolve("bad"), m.config(), state);
        LlamaModel target = new LlamaModel(LlamaModelTest.micro(), 99);
        float[] before = target.lmHead().weight().toFloatArray();
        assertThatThrownBy(() -> LlamaCheckpoint.FORMAT.loadWeights(target, bad.resolve("model.safetensors")))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageContaining("missing tensors [lm_head.weight] (a tied LM head")
                .hasMessageContaining("unexpected tensors [model.layers.0.self_attn.q_proj.bias]")
                .hasMessageContaining("'model.layers.0.self_attn.k_proj.weight' has shape [16, 16] but the model expects [8, 16]");
        assertThat(target.lmHead().weight().toFloatArray()).containsExactly(before);
    }
}
