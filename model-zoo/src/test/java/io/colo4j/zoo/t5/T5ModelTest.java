package io.colo4j.zoo.t5;

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

class T5ModelTest {
    /** 37 ids, d_model 16, 4 heads of 4, d_ff 32, 2 + 2 layers, 8 buckets up to 16, no dropout. */
    static T5Config micro() {
        return new T5Config(37, 16, 4, 32, 2, 2, 4, 8, 16, 0f, 1e-6f, 1f, 32, 0, 0);
    }

    @Test
    void parameterNamesAreHfsWithAFusedCrossAttentionKeyValue() {
        T5ForConditionalGeneration m = new T5ForConditionalGeneration(micro(), 1);
        List<String> expected = new ArrayList<>(List.of("shared.weight"));
        for (String stack : List.of("encoder", "decoder")) {
            for (int b = 0; b < 2; b++) {
                String p = stack + ".block." + b + ".layer.";
                for (String w : List.of("q", "k", "v", "o")) {
                    expected.add(p + "0.SelfAttention." + w + ".weight");
                }
                if (b == 0) {
                    expected.add(p + "0.SelfAttention.relative_attention_bias.weight");
                }
                expected.add(p + "0.layer_norm.weight");
                int ff = 1;
                if (stack.equals("decoder")) {
                    for (String w : List.of("q", "key_value", "o")) {
                        expected.add(p + "1.EncDecAttention." + w + ".weight");
                    }
                    expected.add(p + "1.layer_norm.weight");
                    ff = 2;
                }
                expected.add(p + ff + ".DenseReluDense.wi.weight");
                expected.add(p + ff + ".DenseReluDense.wo.weight");
                expected.add(p + ff + ".layer_norm.weight");
            }
            expected.add(stack + ".final_layer_norm.weight");
        }
        Map<String, Parameter> params = m.namedParameters();
        assertThat(params.keySet()).containsExactlyElementsOf(expected);
        assertThat(params.get("decoder.block.1.layer.1.EncDecAttention.key_value.weight").shape()).containsExactly(32, 16);
        assertThat(params.get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").shape()).containsExactly(8, 4);
        assertThat(params.values().stream().mapToLong(Tensor::numel).sum()).isEqualTo(micro().parameterCount());
    }

    @Test
    void initialisationFollowsHfsFactors() {
        T5Config c = T5Config.small();
        T5ForConditionalGeneration m = new T5ForConditionalGeneration(T5Config.FORMAT.with(micro(), "initializer_factor", 1f), 3);
        assertThat(rms(m.namedParameters().get("shared.weight"))).isCloseTo(1.0, within(0.1));
        assertThat(rms(m.namedParameters().get("encoder.block.0.layer.1.DenseReluDense.wo.weight"))).isCloseTo(1 / Math.sqrt(32), within(0.03));
        assertThat(rms(m.namedParameters().get("decoder.block.0.layer.0.SelfAttention.q.weight"))).isCloseTo(1 / Math.sqrt(16 * 4), within(0.03));
        assertThat(m.namedParameters().get("decoder.final_layer_norm.weight").toFloatArray()).containsOnly(1f);
        assertThat(c.parameterCount()).isBetween(60_000_000L, 61_000_000L);
    }

    static double rms(Tensor t) {
        double s = 0;
        float[] v = t.toFloatArray();
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s / v.length);
    }

    @Test
    void theDecoderIsCausalAndTheEncoderMaskHidesPadding() {
        T5ForConditionalGeneration m = new T5ForConditionalGeneration(micro(), 2);
        IntTensor enc = TokenIds.ids(2, 7, 37, 0);
        IntTensor dec = TokenIds.ids(2, 5, 37, 1);
        Tensor base = m.forward(enc, dec);
        assertThat(base.shape()).containsExactly(2, 5, 37);
        int[] later = dec.data().clone();
        later[4] = (later[4] + 5) % 37; // row 0, last decoder position
        Tensor changed = m.forward(enc, IntTensor.of(later, 2, 5));
        assertThat(changed.narrow(1, 0, 4).copy().toFloatArray()).containsExactly(base.narrow(1, 0, 4).copy().toFloatArray());
        assertThat(changed.narrow(1, 4, 1).copy().toFloatArray()).isNotEqualTo(base.narrow(1, 4, 1).copy().toFloatArray());
        IntTensor mask = IntTensor.of(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 7);
        int[] padded = enc.data().clone();
        padded[7 + 6] = (padded[7 + 6] + 9) % 37; // row 1, a padded encoder position
        assertThat(m.forward(IntTensor.of(padded, 2, 7), mask, dec).toFloatArray()).containsExactly(m.forward(enc, mask, dec).toFloatArray());
        assertThat(m.forward(IntTensor.of(padded, 2, 7), dec).toFloatArray()).isNotEqualTo(base.toFloatArray());
    }

    @Test
    void shiftRightAndTheAdaptersWindowSplit() {
        T5ForConditionalGeneration m = new T5ForConditionalGeneration(micro(), 2);
        IntTensor labels = IntTensor.of(new int[] {5, 6, 7, 8, -100, 9, 10, -100}, 2, 4);
        assertThat(m.shiftRight(labels).data()).containsExactly(0, 5, 6, 7, 0, 0, 9, 10);
        IntTensor window = IntTensor.of(new int[] {1, 2, 3, 4, 5, 11, 12, 13, 14, 15}, 2, 5);
        IntTensor[] parts = T5LanguageModel.split(window);
        assertThat(parts[0].shape()).containsExactly(2, 2);
        assertThat(parts[0].data()).containsExactly(1, 2, 11, 12);
        assertThat(parts[1].data()).containsExactly(3, 4, 5, 13, 14, 15);
        assertThatThrownBy(() -> T5LanguageModel.split(IntTensor.of(new int[] {1}, 1, 1))).hasMessageContaining("seq >= 2");
    }

    @Test
    void adapterLossIsTheTeacherForcedSecondHalfAndLearns() {
        T5LanguageModel lm = new T5LanguageModel(new T5ForConditionalGeneration(micro(), 4));
        int[] pattern = new int[2 * 12];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = 3 + (i % 12) % 4 + 4 * (i / 12);
        }
        IntTensor window = IntTensor.of(pattern, 2, 12);
        IntTensor[] parts = T5LanguageModel.split(window);
        assertThat(lm.loss(window, window, 0).item()).isEqualTo(lm.model().loss(parts[0], parts[1]).item());
        float before = lm.loss(window, window, 0).item();
        io.colo4j.ops.optim.AdamW opt = new io.colo4j.ops.optim.AdamW(lm.module().namedParameters(),
                io.colo4j.ops.optim.AdamW.Options.defaults(1e-2));
        for (int step = 0; step < 25; step++) {
            Tensor loss = lm.loss(window, window, step);
            loss.backward();
            opt.step();
            opt.zeroGrad();
        }
        float after = lm.loss(window, window, 0).item();
        System.out.printf("t5 adapter: loss %.3f -> %.3f after 25 AdamW steps%n", before, after);
        assertThat(after).isLessThan(before / 3);
    }

    @Test
    void configJsonRoundTripsAndRefusesWhatTheModelIsNot() throws IOException {
        for (String name : T5Config.NAMED.names()) {
            T5Config c = T5Config.NAMED.get(name);
            assertThat(T5Config.FORMAT.parse(c.toJson())).isEqualTo(c);
        }
        // HF's t5-small config.json
        T5Config hub = T5Config.FORMAT.parse("{\"architectures\": [\"T5ForConditionalGeneration\"], \"d_ff\": 2048, \"d_kv\": 64,"
                + " \"d_model\": 512, \"decoder_start_token_id\": 0, \"dropout_rate\": 0.1, \"eos_token_id\": 1,"
                + " \"initializer_factor\": 1.0, \"is_encoder_decoder\": true, \"layer_norm_epsilon\": 1e-06, \"model_type\": \"t5\","
                + " \"n_positions\": 512, \"num_heads\": 8, \"num_layers\": 6, \"output_past\": true, \"pad_token_id\": 0,"
                + " \"relative_attention_num_buckets\": 32, \"vocab_size\": 32128}");
        assertThat(hub).isEqualTo(T5Config.small());
        assertThatThrownBy(() -> T5Config.FORMAT.parse("{\"model_type\": \"t5\", \"feed_forward_proj\": \"gated-gelu\"}"))
                .hasMessageContaining("gated-gelu");
        assertThatThrownBy(() -> T5Config.FORMAT.parse("{\"model_type\": \"t5\", \"tie_word_embeddings\": false}"))
                .hasMessageContaining("tie_word_embeddings");
        assertThatThrownBy(() -> T5Config.NAMED.get("xxl")).hasMessageContaining("[tiny, small, base]");
    }
}
