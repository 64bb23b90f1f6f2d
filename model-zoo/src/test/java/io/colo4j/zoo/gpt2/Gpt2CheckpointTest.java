package io.colo4j.zoo.gpt2;

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

class Gpt2CheckpointTest {
    @TempDir
    Path dir;

    @Test
    void savesAndLoadsBothKeyStyles() throws IOException {
        Gpt2Model m = new Gpt2Model(Gpt2ModelTest.micro(), 21);
        Gpt2Checkpoint.FORMAT.save(m, dir.resolve("prefixed"));
        Gpt2Checkpoint.FORMAT.save(m, dir.resolve("hub"), Gpt2Checkpoint.KEYS::bare);
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("prefixed/model.safetensors"))) {
            assertThat(r.names()).contains("transformer.wte.weight", "transformer.h.1.mlp.c_proj.bias").noneMatch(n -> n.startsWith("h."));
            assertThat(r.metadata()).containsEntry("format", "pt");
        }
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("hub/model.safetensors"))) {
            assertThat(r.names()).contains("wte.weight", "h.1.mlp.c_proj.bias").noneMatch(n -> n.startsWith("transformer."));
        }
        ModelFolders.assertSameWeights(m, Gpt2Checkpoint.FORMAT.load(dir.resolve("prefixed")));
        ModelFolders.assertSameWeights(m, Gpt2Checkpoint.FORMAT.load(dir.resolve("hub")));
        assertThat(Gpt2Checkpoint.FORMAT.readConfig(dir.resolve("hub"))).isEqualTo(m.config());
    }

    @Test
    void acceptsHubMaskBuffersAndATiedLmHead() throws IOException {
        Gpt2Model m = new Gpt2Model(Gpt2ModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> state.put(n.substring("transformer.".length()), p));
        state.put("h.0.attn.bias", Tensor.ones(1, 1, 16, 16));
        state.put("h.1.attn.masked_bias", Tensor.scalar(-1e4f));
        state.put("lm_head.weight", m.transformer().wte().weight());
        Path d = ModelFolders.write(dir.resolve("hub-extra"), m.config(), state);
        ModelFolders.assertSameWeights(m, Gpt2Checkpoint.FORMAT.load(d));
    }

    @Test
    void mismatchesAreAllNamedBeforeAnyParameterIsTouched() throws IOException {
        Gpt2Model source = new Gpt2Model(Gpt2ModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(source.stateDict());
        state.remove("transformer.h.1.ln_2.bias");
        state.put("transformer.h.0.mlp.c_fc.weight", Tensor.zeros(128, 32));
        state.put("transformer.extra.weight", Tensor.zeros(2));
        Path d = ModelFolders.write(dir.resolve("bad"), source.config(), state);
        Gpt2Model target = new Gpt2Model(Gpt2ModelTest.micro(), 99);
        float[] before = target.namedParameters().get("transformer.wte.weight").toFloatArray();
        assertThatThrownBy(() -> Gpt2Checkpoint.FORMAT.loadWeights(target, d.resolve("model.safetensors")))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("missing tensors [transformer.h.1.ln_2.bias]")
                .hasMessageContaining("unexpected tensors [transformer.extra.weight]")
                .hasMessageContaining("transformer.h.0.mlp.c_fc.weight' has shape [128, 32]");
        assertThat(target.namedParameters().get("transformer.wte.weight").toFloatArray()).containsExactly(before);
    }

    @Test
    void rejectsAnUntiedLmHeadAndDuplicateKeyStyles() throws IOException {
        Gpt2Model m = new Gpt2Model(Gpt2ModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(m.stateDict());
        state.put("lm_head.weight", Tensor.zeros(10, 32));
        assertThatThrownBy(() -> Gpt2Checkpoint.FORMAT.load(ModelFolders.write(dir.resolve("untied"), m.config(), state)))
                .hasMessageContaining("lm_head.weight").hasMessageContaining("tied");
        Map<String, Tensor> both = new LinkedHashMap<>(m.stateDict());
        both.put("wte.weight", m.transformer().wte().weight());
        assertThatThrownBy(() -> Gpt2Checkpoint.FORMAT.load(ModelFolders.write(dir.resolve("both"), m.config(), both)))
                .hasMessageContaining("'transformer.wte.weight' and 'wte.weight'");
        assertThatThrownBy(() -> Gpt2Checkpoint.FORMAT.load(dir.resolve("nothing-here")))
                .isInstanceOf(IOException.class).hasMessageContaining("config.json");
    }
}
