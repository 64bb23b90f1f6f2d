package io.colo4j.zoo.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

public class LlamaModelTest {
    /** 2 layers, 16 wide, 4 heads of 4 sharing 2 key/value heads. */
    public static LlamaConfig micro() {
        return LlamaConfig.of(40, 32, 16, 24, 2, 4, 2);
    }

    @Test
    void parameterNamesAndShapesAreHfs() {
        LlamaModel m = new LlamaModel(micro(), 3);
        assertThat(m.namedParameters().keySet()).startsWith("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
                "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                "model.layers.0.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
                "model.layers.0.post_attention_layernorm.weight").endsWith("model.norm.weight", "lm_head.weight");
        assertThat(m.namedParameters()).hasSize(1 + 2 * 9 + 2);
        assertThat(m.namedParameters().get("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(8, 16);
        assertThat(m.namedParameters().get("model.layers.0.mlp.gate_proj.weight").shape()).containsExactly(24, 16);
        assertThat(m.namedParameters().get("model.layers.0.mlp.down_proj.weight").shape()).containsExactly(16, 24);
        assertThat(m.namedParameters().get("lm_head.weight").shape()).containsExactly(40, 16);
        assertThat(m.namedParameters().keySet()).noneMatch(n -> n.endsWith(".bias"));
    }

    @Test
    void rotaryTablesFollowHfsConvention() {
        LlamaRotaryEmbedding rope = new LlamaRotaryEmbedding(4, 10000.0);
        Tensor[] cs = rope.cosSin(3);
        // inv_freq = [1, 0.01]; position 2: angles [2, 0.02, 2, 0.02]
        assertThat((double) cs[0].get(2, 0)).isCloseTo(Math.cos(2), within(1e-6));
        assertThat((double) cs[0].get(2, 1)).isCloseTo(Math.cos(0.02), within(1e-6));
        assertThat((double) cs[1].get(2, 2)).isCloseTo(Math.sin(2), within(1e-6));
        assertThat((double) cs[1].get(2, 3)).isCloseTo(Math.sin(0.02), within(1e-6));
        // rotate_half: x * cos + cat(-x2, x1) * sin rotates the pairs (x_i, x_{i+hd/2})
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 1, 4);
        Tensor cos = Tensor.of(new float[] {0, 0, 0, 0}, 1, 4);
        Tensor sin = Tensor.of(new float[] {1, 1, 1, 1}, 1, 4);
        assertThat(LlamaRotaryEmbedding.apply(x, cos, sin).toFloatArray()).containsExactly(-3, -4, 1, 2);
    }

    @Test
    void logitsAreCausalAndTheLossIsNearLogVocabAtInit() {
        LlamaModel m = new LlamaModel(micro(), 9);
        int[] ids = {3, 7, 11, 19, 23, 5};
        int[] changed = ids.clone();
        changed[5] = 30;
        float[] fa = m.forward(IntTensor.of(ids, 1, 6)).toFloatArray();
        float[] fb = m.forward(IntTensor.of(changed, 1, 6)).toFloatArray();
        for (int i = 0; i < 5 * 40; i++) {
            assertThat(fb[i]).isCloseTo(fa[i], org.assertj.core.api.Assertions.within(1e-5f * (1 + Math.abs(fa[i]))));
        }
        float loss = m.loss(IntTensor.of(ids, 2, 3), IntTensor.of(new int[] {7, 11, 19, 23, 5, 1}, 2, 3)).item();
        assertThat((double) loss).isCloseTo(Math.log(40), within(0.1));
    }

    @Test
    void configJsonRoundTripsAndNamedConfigsHaveTheirShapes() throws IOException {
        for (String name : LlamaConfig.NAMED.names()) {
            LlamaConfig c = LlamaConfig.NAMED.get(name);
            assertThat(LlamaConfig.FORMAT.parse(c.toJson())).as(name).isEqualTo(c);
        }
        LlamaConfig l7 = LlamaConfig.NAMED.get("llama-7b");
        assertThat(List.of(l7.hiddenSize(), l7.intermediateSize(), l7.numHiddenLayers(), l7.numAttentionHeads(), l7.numKeyValueHeads(),
                l7.headDim(), l7.vocabSize())).containsExactly(4096, 11008, 32, 32, 32, 128, 32000);
        LlamaConfig l3 = LlamaConfig.NAMED.get("llama-3-8b");
        assertThat(l3.groups()).isEqualTo(4);
        assertThat(l3.ropeTheta()).isEqualTo(500000.0);
        assertThat(LlamaConfig.tiny().groups()).isEqualTo(2);
        assertThat(LlamaConfig.FORMAT.parse("{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_attention_heads\": 4,"
                + " \"intermediate_size\": 128, \"vocab_size\": 50, \"num_hidden_layers\": 1}").numKeyValueHeads()).isEqualTo(4);
        assertThatThrownBy(() -> LlamaConfig.FORMAT.parse("{\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}}"))
                .hasMessageContaining("rope_scaling");
        assertThatThrownBy(() -> LlamaConfig.FORMAT.parse("{\"model_type\": \"llama\", \"tie_word_embeddings\": true}"))
                .hasMessageContaining("tie_word_embeddings");
        assertThatThrownBy(() -> LlamaConfig.of(40, 32, 16, 24, 2, 4, 3)).hasMessageContaining("not a multiple of num_key_value_heads");
    }
}
