package io.colo4j.zoo.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.hf.TokenIds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BertModelTest {
    /** 37 ids, 16 wide, 4 heads, 2 layers, intermediate 32, 16 positions, no dropout. */
    static BertConfig micro() {
        return BertConfig.of(37, 16, 2, 4, 32, 16, 36).withDropout(0f);
    }

    @Test
    void parameterNamesAndShapesAreHfBertForMaskedLm() {
        BertForMaskedLM m = new BertForMaskedLM(micro(), 1);
        List<String> expected = new ArrayList<>(List.of("bert.embeddings.word_embeddings.weight",
                "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight",
                "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias"));
        for (int l = 0; l < 2; l++) {
            String p = "bert.encoder.layer." + l + ".";
            for (String s : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                    "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")) {
                expected.add(p + s + ".weight");
                expected.add(p + s + ".bias");
            }
        }
        expected.addAll(List.of("bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.predictions.bias",
                "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"));
        Map<String, Parameter> params = m.namedParameters();
        assertThat(params.keySet()).containsExactlyElementsOf(expected);
        assertThat(params.get("bert.encoder.layer.0.intermediate.dense.weight").shape()).containsExactly(32, 16);
        assertThat(params.get("bert.encoder.layer.0.output.dense.weight").shape()).containsExactly(16, 32);
        assertThat(params.get("cls.predictions.bias").shape()).containsExactly(37);
        long count = params.values().stream().mapToLong(Tensor::numel).sum();
        assertThat(count).isEqualTo(micro().parameterCount());
        assertThat(new BertForMaskedLM(BertConfig.FORMAT.with(micro(), "add_pooling_layer", false), 1).namedParameters().keySet()).noneMatch(n -> n.startsWith("bert.pooler"));
    }

    @Test
    void initialisationIsHfsAndDependsOnlyOnSeedAndName() {
        BertForMaskedLM a = new BertForMaskedLM(micro(), 5);
        BertForMaskedLM b = new BertForMaskedLM(BertConfig.FORMAT.with(micro(), "add_pooling_layer", false), 5);
        assertThat(b.namedParameters().get("cls.predictions.transform.dense.weight").toFloatArray())
                .containsExactly(a.namedParameters().get("cls.predictions.transform.dense.weight").toFloatArray());
        float[] word = a.namedParameters().get("bert.embeddings.word_embeddings.weight").toFloatArray();
        for (int i = 0; i < 16; i++) {
            assertThat(word[i]).as("padding row").isZero();
        }
        assertThat(word[16]).isNotZero();
        assertThat(a.namedParameters().get("cls.predictions.bias").toFloatArray()).containsOnly(0f);
        assertThat(a.namedParameters().get("bert.encoder.layer.1.output.LayerNorm.weight").toFloatArray()).containsOnly(1f);
        double sq = 0;
        float[] q = a.namedParameters().get("bert.encoder.layer.0.attention.self.query.weight").toFloatArray();
        for (float v : q) {
            sq += v * v;
        }
        assertThat(Math.sqrt(sq / q.length)).isCloseTo(0.02, within(0.004));
    }

    @Test
    void exactGeluMatchesTorch() {
        float[] x = {-6f, -3.5f, -1f, -0.3f, 0f, 0.2f, 1f, 2.5f, 7f};
        double[] y = {-5.91952587e-09, -0.000814201777, -0.158655254, -0.114626573, 0.0, 0.115851942, 0.841344746, 2.48447584, 7.0};
        double[] dy = {-3.54687095e-08, -0.00282176035, -0.0833154706, 0.267672233, 0.5, 0.657468248, 1.08331547, 1.03761109, 1.0};
        Tensor in = Tensor.of(x.clone(), x.length).requiresGrad(true);
        Tensor out = BertActivations.geluExact(in);
        io.colo4j.ops.F.sum(out).backward();
        float[] got = out.toFloatArray();
        float[] grad = in.grad().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            assertThat((double) got[i]).as("gelu(%s)", x[i]).isCloseTo(y[i], within(1e-7 * Math.max(1, Math.abs(y[i])) + 1e-12));
            assertThat((double) grad[i]).as("gelu'(%s)", x[i]).isCloseTo(dy[i], within(1e-7 + 1e-12));
        }
        // the tanh approximation differs visibly: gelu_new is not gelu
        assertThat((double) io.colo4j.ops.F.gelu(Tensor.of(new float[] {-3.5f}, 1)).item()).isNotCloseTo(y[1], within(1e-5));
    }

    @Test
    void logitsCoverTheVocabularyAndPaddingIsMaskedOut() {
        BertForMaskedLM m = new BertForMaskedLM(micro(), 2);
        IntTensor a = TokenIds.ids(2, 6, 37, 0);
        int[] changed = a.data().clone();
        changed[6 + 5] = (changed[6 + 5] + 11) % 37; // row 1, last position
        IntTensor mask = IntTensor.of(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, 2, 6);
        Tensor la = m.forward(a, null, mask);
        Tensor lb = m.forward(IntTensor.of(changed, 2, 6), null, mask);
        assertThat(la.shape()).containsExactly(2, 6, 37);
        // a padded position changes no other position's logits ...
        assertThat(la.narrow(1, 0, 5).copy().toFloatArray()).containsExactly(lb.narrow(1, 0, 5).copy().toFloatArray());
        // ... but without the mask it does
        assertThat(m.forward(a).narrow(1, 0, 5).copy().toFloatArray())
                .isNotEqualTo(m.forward(IntTensor.of(changed, 2, 6)).narrow(1, 0, 5).copy().toFloatArray());
        // token types matter
        IntTensor types = IntTensor.of(new int[] {0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}, 2, 6);
        assertThat(m.forward(a, types, null).toFloatArray()).isNotEqualTo(m.forward(a).toFloatArray());
        assertThatThrownBy(() -> m.forward(TokenIds.ids(1, 17, 37, 0))).hasMessageContaining("max_position_embeddings 16");
        Tensor pooled = m.bert().pool(m.hidden(a));
        assertThat(pooled.shape()).containsExactly(2, 16);
    }

    @Test
    void maskingIsDeterministicAndBertLike() {
        int n = 20_000;
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = i % 200;
        }
        IntTensor window = IntTensor.of(v, 4, n / 4);
        BertMasking.Masked a = BertMasking.mask(window, 7L, 257, 256);
        BertMasking.Masked b = BertMasking.mask(window, 7L, 257, 256);
        assertThat(a.inputs().data()).containsExactly(b.inputs().data());
        assertThat(a.labels().data()).containsExactly(b.labels().data());
        assertThat(BertMasking.mask(window, 8L, 257, 256).labels().data()).isNotEqualTo(a.labels().data());
        int chosen = 0;
        int masked = 0;
        int kept = 0;
        for (int i = 0; i < n; i++) {
            int label = a.labels().get(i);
            if (label == BertMasking.IGNORE) {
                assertThat(a.inputs().get(i)).isEqualTo(v[i]);
                continue;
            }
            chosen++;
            assertThat(label).isEqualTo(v[i]);
            if (a.inputs().get(i) == 256) {
                masked++;
            } else if (a.inputs().get(i) == v[i]) {
                kept++;
            }
        }
        assertThat(chosen).isEqualTo(a.count());
        assertThat(chosen / (double) n).isCloseTo(0.15, within(0.01));
        assertThat(masked / (double) chosen).isCloseTo(0.8, within(0.03));
        assertThat(kept / (double) chosen).isCloseTo(0.1 + 0.1 / 257, within(0.03));
        // a window too short to be drawn still predicts one token
        assertThat(BertMasking.mask(IntTensor.of(new int[] {3}, 1, 1), 1L, 257, 256).count()).isEqualTo(1);
    }

    @Test
    void adapterMasksByStepAndLearns() {
        BertConfig config = micro();
        BertLanguageModel lm = new BertLanguageModel(new BertForMaskedLM(config, 3));
        int[] pattern = new int[24];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = 5 + 4 * (i % 3); // 5 9 13 5 9 13 ...: learnable from the context
        }
        IntTensor window = IntTensor.of(pattern, 2, 12);
        assertThat(lm.masking(window, 4).labels().data()).containsExactly(lm.masking(window, 4).labels().data());
        assertThat(lm.masking(window, 4).labels().data()).isNotEqualTo(lm.masking(window, 5).labels().data());
        assertThat(lm.vocabSize()).isEqualTo(37);
        assertThat(lm.maxSequenceLength()).isEqualTo(16);
        double before = meanLoss(lm, window);
        assertThat(before).isCloseTo(Math.log(37), within(0.3));
        io.colo4j.ops.optim.AdamW opt = new io.colo4j.ops.optim.AdamW(lm.module().namedParameters(),
                io.colo4j.ops.optim.AdamW.Options.defaults(2e-2));
        for (int step = 0; step < 40; step++) {
            Tensor loss = lm.loss(window, window, step);
            loss.backward();
            opt.step();
            opt.zeroGrad();
        }
        double after = meanLoss(lm, window);
        System.out.printf("bert adapter: masked-LM loss %.3f -> %.3f after 40 AdamW steps%n", before, after);
        assertThat(after).as("mean masked-LM loss after 40 AdamW steps").isLessThan(1.5);
    }

    /** The mean loss over the maskings of steps 1000..1009 (none of them trained on). */
    static double meanLoss(BertLanguageModel lm, IntTensor window) {
        double sum = 0;
        for (int step = 1000; step < 1010; step++) {
            sum += lm.loss(window, window, step).item();
        }
        return sum / 10;
    }

    @Test
    void configJsonRoundTripsAndRefusesWhatTheModelIsNot() throws IOException {
        for (String name : BertConfig.NAMED.names()) {
            BertConfig c = BertConfig.NAMED.get(name);
            assertThat(BertConfig.FORMAT.parse(c.toJson())).isEqualTo(c);
        }
        assertThat(BertConfig.NAMED.get("bert-base-uncased").hiddenSize()).isEqualTo(768);
        assertThat(BertConfig.base().parameterCount()).isBetween(109_000_000L, 111_000_000L);
        // an HF bert-base-uncased config.json: no mask_token_id (103 is assumed), pooler present
        BertConfig hub = BertConfig.FORMAT.parse("{\"architectures\": [\"BertForMaskedLM\"], \"attention_probs_dropout_prob\": 0.1,"
                + " \"hidden_act\": \"gelu\", \"hidden_dropout_prob\": 0.1, \"hidden_size\": 768, \"initializer_range\": 0.02,"
                + " \"intermediate_size\": 3072, \"layer_norm_eps\": 1e-12, \"max_position_embeddings\": 512, \"model_type\": \"bert\","
                + " \"num_attention_heads\": 12, \"num_hidden_layers\": 12, \"pad_token_id\": 0, \"type_vocab_size\": 2,"
                + " \"vocab_size\": 30522, \"position_embedding_type\": \"absolute\", \"transformers_version\": \"4.6.0.dev0\"}");
        assertThat(hub).isEqualTo(BertConfig.base());
        assertThatThrownBy(() -> BertConfig.FORMAT.parse("{\"model_type\": \"bert\", \"position_embedding_type\": \"relative_key\"}"))
                .hasMessageContaining("relative_key");
        assertThatThrownBy(() -> BertConfig.FORMAT.parse("{\"model_type\": \"roberta\"}")).hasMessageContaining("not bert");
        assertThatThrownBy(() -> BertConfig.FORMAT.parse("{\"hidden_act\": \"swish\"}")).hasMessageContaining("swish");
        assertThatThrownBy(() -> BertConfig.NAMED.get("huge")).hasMessageContaining("[tiny, base, large]");
    }
}
