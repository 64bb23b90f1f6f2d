package io.colo4j.zoo.t5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.ModelFolders;
import io.colo4j.zoo.io.SafeTensorsException;
import io.colo4j.zoo.io.SafeTensorsReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class T5CheckpointTest {
    static final String KV = "decoder.block.1.layer.1.EncDecAttention.key_value.weight";

    @TempDir
    Path dir;

    @Test
    void savesHfsSeparateCrossAttentionKAndVAndLoadsThemBack() throws IOException {
        T5ForConditionalGeneration m = new T5ForConditionalGeneration(T5ModelTest.micro(), 21);
        T5Checkpoint.FORMAT.save(m, dir.resolve("m"));
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("m/model.safetensors"))) {
            assertThat(r.names()).contains("shared.weight", "decoder.block.1.layer.1.EncDecAttention.k.weight",
                    "decoder.block.1.layer.1.EncDecAttention.v.weight").noneMatch(n -> n.contains("key_value") || n.startsWith("lm_head"));
            float[] fused = m.namedParameters().get(KV).toFloatArray();
            float[] k = r.read("decoder.block.1.layer.1.EncDecAttention.k.weight").toFloatArray();
            float[] v = r.read("decoder.block.1.layer.1.EncDecAttention.v.weight").toFloatArray();
            assertThat(k).containsExactly(java.util.Arrays.copyOfRange(fused, 0, k.length));
            assertThat(v).containsExactly(java.util.Arrays.copyOfRange(fused, k.length, fused.length));
        }
        assertThat(Files.readString(dir.resolve("m/config.json"))).contains("T5ForConditionalGeneration");
        ModelFolders.assertSameWeights(m, T5Checkpoint.FORMAT.load(dir.resolve("m")));
        T5LanguageModel lm = new T5LanguageModel(new T5ForConditionalGeneration(T5ModelTest.micro(), 99));
        lm.load(dir.resolve("m"));
        ModelFolders.assertSameWeights(m, lm.model());
    }

    @Test
    void acceptsAFusedKeyValueAndTiedCopiesOfShared() throws IOException {
        T5ForConditionalGeneration m = new T5ForConditionalGeneration(T5ModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(m.namedParameters());
        Tensor shared = state.remove("shared.weight");
        state.put("encoder.embed_tokens.weight", shared); // only a tied copy stands for shared
        state.put("lm_head.weight", shared);
        ModelFolders.assertSameWeights(m, T5Checkpoint.FORMAT.load(ModelFolders.write(dir.resolve("fused"), m.config(), state)));
    }

    @Test
    void mismatchesAreAllNamedBeforeAnyParameterIsTouched() throws IOException {
        T5ForConditionalGeneration source = new T5ForConditionalGeneration(T5ModelTest.micro(), 4);
        T5Checkpoint.FORMAT.save(source, dir.resolve("src"));
        Map<String, Tensor> state;
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("src/model.safetensors"))) {
            state = new LinkedHashMap<>(r.readAll());
        }
        state.remove("decoder.block.0.layer.1.EncDecAttention.v.weight");
        state.put("decoder.block.1.layer.1.EncDecAttention.k.weight", Tensor.zeros(8, 16));
        state.put("lm_head.weight", Tensor.zeros(37, 8));
        state.put("decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", Tensor.zeros(8, 4));
        Path d = ModelFolders.write(dir.resolve("bad"), source.config(), state);
        T5ForConditionalGeneration target = new T5ForConditionalGeneration(T5ModelTest.micro(), 99);
        float[] before = target.namedParameters().get("shared.weight").toFloatArray();
        assertThatThrownBy(() -> T5Checkpoint.FORMAT.loadWeights(target, d.resolve(HfCheckpoint.WEIGHTS)))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageContaining("missing tensors [decoder.block.0.layer.1.EncDecAttention.v.weight]")
                .hasMessageContaining("unexpected tensors [decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight]")
                .hasMessageContaining("decoder.block.1.layer.1.EncDecAttention.k.weight' has shape [8, 16] but the model expects [16, 16]")
                .hasMessageContaining("untied heads and embeddings are not supported");
        assertThat(target.namedParameters().get("shared.weight").toFloatArray()).containsExactly(before);
    }
}
