package io.colo4j.zoo.bert;

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

class BertCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void savesHfNamesAndLoadsThemBack() throws IOException {
        BertForMaskedLM m = new BertForMaskedLM(BertModelTest.micro(), 21);
        BertCheckpoint.FORMAT.save(m, dir.resolve("m"));
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("m/model.safetensors"))) {
            assertThat(r.names()).contains("bert.embeddings.word_embeddings.weight", "cls.predictions.bias",
                    "bert.encoder.layer.1.attention.self.value.bias").noneMatch(n -> n.contains("decoder"));
            assertThat(r.metadata()).containsEntry("format", "pt");
        }
        assertThat(Files.readString(dir.resolve("m/config.json"))).contains("\"model_type\" : \"bert\"").contains("BertForMaskedLM");
        BertForMaskedLM back = BertCheckpoint.FORMAT.load(dir.resolve("m"));
        ModelFolders.assertSameWeights(m, back);
        assertThat(back.config()).isEqualTo(m.config());
        BertLanguageModel lm = new BertLanguageModel(new BertForMaskedLM(BertModelTest.micro(), 99));
        lm.load(dir.resolve("m"));
        ModelFolders.assertSameWeights(m, lm.model());
    }

    @Test
    void acceptsHfsOtherKeyStylesAndTiedOrIgnoredTensors() throws IOException {
        BertForMaskedLM m = new BertForMaskedLM(BertModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> {
            if (n.equals("cls.predictions.bias")) {
                state.put("cls.predictions.decoder.bias", p); // only HF's alias of the MLM bias
            } else if (n.startsWith("bert.")) {
                String bare = n.substring("bert.".length());
                state.put(bare.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), p);
            } else {
                state.put(n, p);
            }
        });
        state.put("cls.predictions.decoder.weight", m.bert().embeddings().wordEmbeddings().weight());
        state.put("embeddings.position_ids", Tensor.zeros(1, 16));
        state.put("cls.seq_relationship.weight", Tensor.zeros(2, 16));
        state.put("cls.seq_relationship.bias", Tensor.zeros(2));
        ModelFolders.assertSameWeights(m, BertCheckpoint.FORMAT.load(ModelFolders.write(dir.resolve("hub"), m.config(), state)));
    }

    @Test
    void aCheckpointWithoutPoolerLeavesThePoolerAsInitialised() throws IOException {
        BertForMaskedLM m = new BertForMaskedLM(BertModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(m.namedParameters());
        state.remove("bert.pooler.dense.weight");
        state.remove("bert.pooler.dense.bias");
        BertForMaskedLM target = new BertForMaskedLM(BertModelTest.micro(), 77);
        float[] pooler = target.bert().pooler().dense().weight().toFloatArray();
        BertCheckpoint.FORMAT.loadWeights(target, ModelFolders.write(dir.resolve("no-pooler"), m.config(), state).resolve(HfCheckpoint.WEIGHTS));
        assertThat(target.bert().pooler().dense().weight().toFloatArray()).containsExactly(pooler);
        assertThat(target.cls().predictions().bias().toFloatArray()).containsExactly(m.cls().predictions().bias().toFloatArray());
    }

    @Test
    void mismatchesAreAllNamedBeforeAnyParameterIsTouched() throws IOException {
        BertForMaskedLM source = new BertForMaskedLM(BertModelTest.micro(), 4);
        Map<String, Tensor> state = new LinkedHashMap<>(source.namedParameters());
        state.remove("bert.encoder.layer.1.output.LayerNorm.bias");
        state.put("bert.encoder.layer.0.intermediate.dense.weight", Tensor.zeros(16, 32));
        state.put("cls.predictions.decoder.weight", Tensor.zeros(10, 16));
        state.put("bert.extra.weight", Tensor.zeros(2));
        Path d = ModelFolders.write(dir.resolve("bad"), source.config(), state);
        BertForMaskedLM target = new BertForMaskedLM(BertModelTest.micro(), 99);
        float[] before = target.namedParameters().get("bert.embeddings.word_embeddings.weight").toFloatArray();
        assertThatThrownBy(() -> BertCheckpoint.FORMAT.loadWeights(target, d.resolve(HfCheckpoint.WEIGHTS)))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("missing tensors [bert.encoder.layer.1.output.LayerNorm.bias]")
                .hasMessageContaining("unexpected tensors [bert.extra.weight]")
                .hasMessageContaining("bert.encoder.layer.0.intermediate.dense.weight' has shape [16, 32]")
                .hasMessageContaining("untied MLM decoders are not supported");
        assertThat(target.namedParameters().get("bert.embeddings.word_embeddings.weight").toFloatArray()).containsExactly(before);
    }

    @Test
    void loadRefusesAnotherArchitecture() throws IOException {
        BertForMaskedLM m = new BertForMaskedLM(BertModelTest.micro(), 4);
        BertCheckpoint.FORMAT.save(m, dir.resolve("m"));
        BertLanguageModel other = new BertLanguageModel(new BertForMaskedLM(BertConfig.FORMAT.with(BertModelTest.micro(), "hidden_act", "relu"), 4));
        assertThatThrownBy(() -> other.load(dir.resolve("m"))).hasMessageContaining("differs from the model's");
        assertThatThrownBy(() -> BertCheckpoint.FORMAT.load(dir)).hasMessageContaining("not a BERT model folder");
    }
}
