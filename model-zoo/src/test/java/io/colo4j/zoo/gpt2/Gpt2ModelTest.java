package io.colo4j.zoo.gpt2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.ops.nn.Params;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

public class Gpt2ModelTest {
    public static Gpt2Config micro() {
        return new Gpt2Config(64, 16, 32, 2, 4, 1e-5f, 0f, 0f, 0f, 0.02f);
    }

    static IntTensor ids(int b, int t, int vocab, int salt) {
        int[] v = new int[b * t];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 7 + salt * 13 + 3) % vocab;
        }
        return IntTensor.of(v, b, t);
    }

    @Test
    void hasHfParameterNamesAndShapes() {
        Gpt2Model m = new Gpt2Model(micro(), 1);
        Map<String, Parameter> p = m.namedParameters();
        assertThat(p.keySet()).startsWith("transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                "transformer.h.0.ln_1.bias", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
                "transformer.h.0.attn.c_proj.weight", "transformer.h.0.attn.c_proj.bias", "transformer.h.0.ln_2.weight",
                "transformer.h.0.ln_2.bias", "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_fc.bias",
                "transformer.h.0.mlp.c_proj.weight", "transformer.h.0.mlp.c_proj.bias");
        assertThat(p.keySet()).endsWith("transformer.ln_f.weight", "transformer.ln_f.bias");
        assertThat(p.keySet()).noneMatch(k -> k.contains("lm_head"));
        assertThat(p).hasSize(2 + 12 * 2 + 2);
        assertThat(p.get("transformer.h.1.attn.c_attn.weight").shape()).containsExactly(32, 96);
        assertThat(p.get("transformer.h.1.mlp.c_proj.weight").shape()).containsExactly(128, 32);
        assertThat(m.parameterCount()).isEqualTo(micro().parameterCount());
        assertThat(Gpt2Config.small().parameterCount()).isEqualTo(124_439_808L);
        assertThat(Gpt2Config.NAMED.get("xl").parameterCount()).isEqualTo(1_557_611_200L);
    }

    @Test
    void initFollowsHfAndDependsOnlyOnSeedAndName() {
        Gpt2Config big = new Gpt2Config(512, 64, 128, 3, 4, 1e-5f, 0f, 0f, 0f, 0.02f);
        Gpt2Model m = new Gpt2Model(big, 7);
        assertThat(std(m.namedParameters().get("transformer.h.0.attn.c_attn.weight"))).isCloseTo(0.02, within(0.001));
        assertThat(std(m.namedParameters().get("transformer.wte.weight"))).isCloseTo(0.02, within(0.001));
        assertThat(std(m.namedParameters().get("transformer.h.2.mlp.c_proj.weight"))).isCloseTo(0.02 / Math.sqrt(6), within(0.0005));
        assertThat(m.namedParameters().get("transformer.h.0.ln_1.weight").toFloatArray()).containsOnly(1f);
        assertThat(m.namedParameters().get("transformer.h.0.attn.c_attn.bias").toFloatArray()).containsOnly(0f);
        // same seed and name -> same values, whatever else the model holds
        Gpt2Model other = new Gpt2Model(new Gpt2Config(512, 64, 128, 1, 4, 1e-5f, 0f, 0f, 0f, 0.02f), 7);
        assertThat(other.namedParameters().get("transformer.h.0.attn.c_attn.weight").toFloatArray())
                .containsExactly(m.namedParameters().get("transformer.h.0.attn.c_attn.weight").toFloatArray());
        assertThat(new Gpt2Model(big, 8).namedParameters().get("transformer.wte.weight").toFloatArray())
                .isNotEqualTo(m.namedParameters().get("transformer.wte.weight").toFloatArray());
    }

    @Test
    void parallelInitGivesExactlyTheSerialValues() {
        Init init = Params.normal(42, "transformer.h.0.mlp.c_fc.weight", 0.02f);
        Parameter p = Params.of(init, 300, 500);
        assertThat(p.toFloatArray()).containsExactly(Tensor.init(init, 300, 500).toFloatArray());
        assertThat(p.init()).isSameAs(init);
        assertThat(p.requiresGrad()).isTrue();
        assertThat(Params.of(Init.ones(), 70_000).toFloatArray()).containsOnly(1f);
    }

    private static double std(Tensor t) {
        float[] v = t.toFloatArray();
        double s = 0;
        double s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double mean = s / v.length;
        return Math.sqrt(s2 / v.length - mean * mean);
    }

    @Test
    void forwardGivesLogitsAndALossNearLnVocabAtInit() {
        Gpt2Model m = new Gpt2Model(micro(), 3);
        try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.disabled()) {
            Tensor logits = m.forward(ids(2, 10, 64, 0));
            assertThat(logits.shape()).containsExactly(2, 10, 64);
            float loss = m.loss(ids(2, 10, 64, 0), ids(2, 10, 64, 1)).item();
            assertThat((double) loss).isCloseTo(Math.log(64), within(0.1));
        }
        assertThatThrownBy(() -> m.forward(ids(1, 17, 64, 0))).hasMessageContaining("n_positions");
    }

    @Test
    void causalOutputsDoNotDependOnLaterTokens() {
        Gpt2Model m = new Gpt2Model(micro(), 3);
        try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.disabled()) {
            int[] a = ids(1, 8, 64, 0).data().clone();
            int[] b = a.clone();
            b[7] = (b[7] + 5) % 64;
            float[] la = m.forward(IntTensor.of(a, 1, 8)).toFloatArray();
            float[] lb = m.forward(IntTensor.of(b, 1, 8)).toFloatArray();
            for (int i = 0; i < 7 * 64; i++) {
                assertThat(lb[i]).isEqualTo(la[i]);
            }
        }
    }

    @Test
    void dropoutIsDeterministicPerStepAndOffInEval() {
        Gpt2Config cfg = micro().withDropout(0.2f);
        Gpt2Model m = new Gpt2Model(cfg, 5);
        IntTensor x = ids(2, 12, 64, 0);
        IntTensor y = ids(2, 12, 64, 1);
        try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.disabled()) {
            m.setStep(3);
            float a = m.loss(x, y).item();
            float b = m.loss(x, y).item();
            m.setStep(4);
            float c = m.loss(x, y).item();
            m.eval();
            float e1 = m.loss(x, y).item();
            m.setStep(9);
            float e2 = m.loss(x, y).item();
            assertThat(a).isEqualTo(b);
            assertThat(c).isNotEqualTo(a);
            assertThat(e1).isEqualTo(e2).isNotEqualTo(a);
            Gpt2Model noDrop = new Gpt2Model(micro(), 5);
            assertThat(noDrop.loss(x, y).item()).isEqualTo(e1);
        }
    }

    @Test
    void backwardReachesEveryParameterIncludingTheTiedHead() {
        Gpt2Model m = new Gpt2Model(micro().withDropout(0.1f), 11);
        m.setStep(1);
        try (MemoryScope scope = MemoryScope.open()) {
            m.loss(ids(2, 9, 64, 0), ids(2, 9, 64, 2)).backward();
        }
        m.namedParameters().forEach((name, p) -> assertThat(p.grad()).as(name).isNotNull());
        m.zeroGrad();
    }

    @Test
    void configJsonRoundTripsAndRejectsUnsupportedOptions() throws IOException {
        for (String name : Gpt2Config.NAMED.names()) {
            Gpt2Config c = Gpt2Config.NAMED.get(name);
            assertThat(Gpt2Config.FORMAT.parse(c.toJson())).isEqualTo(c);
        }
        assertThat(Gpt2Config.FORMAT.parse(Gpt2Config.tiny().toJson())).isEqualTo(Gpt2Config.tiny());
        assertThat(Gpt2Config.small().nEmbd()).isEqualTo(768);
        assertThat(Gpt2Config.NAMED.get("gpt2-medium").nLayer()).isEqualTo(24);
        Gpt2Config hf = Gpt2Config.FORMAT.parse("{\"model_type\":\"gpt2\",\"vocab_size\":96,\"n_positions\":32,\"n_ctx\":32,\"n_embd\":32,"
                + "\"n_layer\":2,\"n_head\":4,\"layer_norm_epsilon\":1e-05,\"activation_function\":\"gelu_new\"}");
        assertThat(hf.vocabSize()).isEqualTo(96);
        assertThat(hf.residPdrop()).isEqualTo(0.1f);
        assertThatThrownBy(() -> Gpt2Config.FORMAT.parse("{\"activation_function\":\"relu\"}")).hasMessageContaining("relu");
        assertThatThrownBy(() -> Gpt2Config.FORMAT.parse("{\"model_type\":\"llama\"}")).hasMessageContaining("llama");
        assertThatThrownBy(() -> Gpt2Config.FORMAT.parse("{\"n_embd\":30,\"n_head\":4}")).hasMessageContaining("divisible");
        assertThatThrownBy(() -> Gpt2Config.NAMED.get("huge")).hasMessageContaining("huge");
    }
}
