package io.colo4j.zoo.opt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

public class OptModelTest {
    public static OptConfig micro() {
        return OptConfig.of(40, 16, 16, 2, 2, 32).withDropout(0f);
    }

    @Test
    void parameterNamesAndShapesAreHfs() {
        OptModel m = new OptModel(micro(), 3);
        assertThat(m.namedParameters().keySet()).startsWith("model.decoder.embed_tokens.weight", "model.decoder.embed_positions.weight",
                "model.decoder.final_layer_norm.weight", "model.decoder.final_layer_norm.bias",
                "model.decoder.layers.0.self_attn.k_proj.weight", "model.decoder.layers.0.self_attn.k_proj.bias",
                "model.decoder.layers.0.self_attn.v_proj.weight");
        assertThat(m.namedParameters()).doesNotContainKey("lm_head.weight").hasSize(4 + 2 * 16);
        assertThat(m.namedParameters().get("model.decoder.embed_positions.weight").shape()).containsExactly(18, 16);
        assertThat(m.namedParameters().get("model.decoder.layers.1.fc1.weight").shape()).containsExactly(32, 16);
        assertThat(m.namedParameters().get("model.decoder.layers.1.fc2.weight").shape()).containsExactly(16, 32);
        OptModel projected = new OptModel(micro().withPostLayerNorm(8), 3);
        assertThat(projected.namedParameters().keySet()).contains("model.decoder.project_in.weight", "model.decoder.project_out.weight")
                .doesNotContain("model.decoder.final_layer_norm.weight");
        assertThat(projected.namedParameters().get("model.decoder.project_in.weight").shape()).containsExactly(16, 8);
        assertThat(projected.namedParameters().get("model.decoder.embed_tokens.weight").shape()).containsExactly(40, 8);
    }

    @Test
    void initialisationIsSeededPerNameWithThePaddingRowZero() {
        OptModel a = new OptModel(micro(), 5);
        OptModel b = new OptModel(micro(), 5);
        a.namedParameters().forEach((n, p) -> assertThat(b.namedParameters().get(n).toFloatArray()).as(n).containsExactly(p.toFloatArray()));
        Tensor embed = a.decoder().embedTokens().weight();
        for (int j = 0; j < 16; j++) {
            assertThat(embed.get(1, j)).isZero(); // pad_token_id 1
        }
        assertThat(embed.get(2, 0)).isNotZero();
        assertThat(a.decoder().layers().get(0).fc1().bias().toFloatArray()).containsOnly(0f);
        assertThat(a.decoder().layers().get(0).selfAttnLayerNorm().weight().toFloatArray()).containsOnly(1f);
    }

    @Test
    void logitsAreCausalAndTheLossIsNearLogVocabAtInit() {
        OptModel m = new OptModel(micro(), 9);
        m.eval();
        int[] ids = {3, 7, 11, 19, 23, 5};
        int[] changed = ids.clone();
        changed[5] = 30;
        Tensor a = m.forward(IntTensor.of(ids, 1, 6));
        Tensor b = m.forward(IntTensor.of(changed, 1, 6));
        assertThat(a.shape()).containsExactly(1, 6, 40);
        float[] fa = a.toFloatArray();
        float[] fb = b.toFloatArray();
        for (int i = 0; i < 5 * 40; i++) {
            assertThat(fb[i]).isCloseTo(fa[i], org.assertj.core.api.Assertions.within(1e-5f * (1 + Math.abs(fa[i])))); // positions before the change see the same logits
        }
        float loss = m.loss(IntTensor.of(ids, 2, 3), IntTensor.of(new int[] {7, 11, 19, 23, 5, 1}, 2, 3)).item();
        assertThat((double) loss).isCloseTo(Math.log(40), org.assertj.core.api.Assertions.within(0.1));
    }

    @Test
    void refusesSequencesLongerThanThePositionTable() {
        OptModel m = new OptModel(micro(), 9);
        assertThatThrownBy(() -> m.forward(IntTensor.of(new int[17], 1, 17))).hasMessageContaining("max_position_embeddings 16");
    }

    @Test
    void configJsonRoundTripsAndNamedConfigsHaveHfsSizes() throws IOException {
        for (String name : OptConfig.NAMED.names()) {
            OptConfig c = OptConfig.NAMED.get(name);
            assertThat(OptConfig.FORMAT.parse(c.toJson())).as(name).isEqualTo(c);
        }
        OptConfig c125 = OptConfig.NAMED.get("facebook/opt-125m");
        assertThat(List.of(c125.hiddenSize(), c125.numHiddenLayers(), c125.numAttentionHeads(), c125.ffnDim(), c125.vocabSize()))
                .containsExactly(768, 12, 12, 3072, 50272);
        OptConfig c350 = OptConfig.NAMED.get("350m");
        assertThat(c350.doLayerNormBefore()).isFalse();
        assertThat(c350.projects()).isTrue();
        assertThat(c350.hasFinalLayerNorm()).isFalse();
        assertThatThrownBy(() -> OptConfig.FORMAT.parse("{\"model_type\": \"opt\", \"activation_function\": \"gelu\"}"))
                .hasMessageContaining("only relu");
        assertThatThrownBy(() -> OptConfig.FORMAT.parse("{\"model_type\": \"gpt2\"}")).hasMessageContaining("not opt");
        assertThatThrownBy(() -> OptConfig.NAMED.get("opt-7b")).hasMessageContaining("known");
    }
}
