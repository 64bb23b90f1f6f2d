package io.colo4j.ops.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {
    private static final float[][] GRADS = {
        {0.1f, -0.2f, 0.3f, -0.4f, 1e-3f},
        {0.05f, 0.1f, -0.1f, 0.2f, 0f},
        {-0.3f, 0f, 0.2f, 0.1f, -2f},
    };

    /** torch 1.13: AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), p after each step. */
    private static final float[][] TORCH = {
        {0.9890000224113464f, -1.9880000352859497f, 0.4895000159740448f, 3.006999969482422f, -0.009999900124967098f},
        {0.9786892533302307f, -1.9833487272262573f, 0.4850083291530609f, 3.0066564083099365f, -0.016690388321876526f},
        {0.9811828136444092f, -1.979306697845459f, 0.47849246859550476f, 3.0042636394500732f, -0.010288150981068611f},
    };

    private static Parameter param(float... values) {
        Parameter p = new Parameter(Init.zeros(), values.length);
        p.setData(Tensor.vector(values));
        return p;
    }

    @Test
    void matchesTorchAdamWStepByStep() {
        Parameter p = param(1f, -2f, 0.5f, 3f, 0f);
        AdamW opt = new AdamW(Map.of("w", p), new AdamW.Options(0.01, 0.9, 0.999, 1e-8, 0.1), AdamW::decaysAll);
        for (int s = 0; s < 3; s++) {
            p.setGrad(Tensor.vector(GRADS[s]));
            opt.step();
            float[] got = p.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertThat(got[i]).as("step %d element %d", s, i).isCloseTo(TORCH[s][i], within(2e-6f));
            }
        }
        assertThat(opt.step("w")).isEqualTo(3);
        float[] m = opt.stateTensors().get("w.exp_avg").toFloatArray();
        float[] v = opt.stateTensors().get("w.exp_avg_sq").toFloatArray();
        assertThat(m[0]).isCloseTo(-0.017400002107024193f, within(1e-7f));
        assertThat(m[4]).isCloseTo(-0.19991900026798248f, within(1e-7f));
        assertThat(v[4]).isCloseTo(0.00400000112131238f, within(1e-9f));
    }

    @Test
    void matchesAScalarDoublePrecisionReferenceAcrossChunksAndTails() {
        int n = 70_001; // two parallel chunks and a scalar tail
        float[] init = new float[n];
        for (int i = 0; i < n; i++) {
            init[i] = (float) Math.sin(i + 1);
        }
        Parameter p = param(init);
        double lr = 3e-3;
        double wd = 0.05;
        double b1 = 0.8;
        double b2 = 0.95;
        double eps = 1e-6;
        AdamW opt = new AdamW(Map.of("x", p), new AdamW.Options(lr, b1, b2, eps, wd), AdamW::decaysAll);
        double[] ref = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            ref[i] = init[i];
        }
        for (int t = 1; t <= 4; t++) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) Math.cos(i * t * 0.7) * (i % 3 == 0 ? 10 : 0.1f);
            }
            p.setGrad(Tensor.vector(g));
            opt.step();
            for (int i = 0; i < n; i++) {
                ref[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
                ref[i] -= lr / (1 - Math.pow(b1, t)) * m[i] / denom;
            }
        }
        float[] got = p.toFloatArray();
        for (int i = 0; i < n; i++) {
            assertThat((double) got[i]).as("element %d", i).isCloseTo(ref[i], within(1e-5));
        }
    }

    @Test
    void weightDecaySkipsBiasesAndNormWeightsByName() {
        assertThat(AdamW.decaysByDefault("transformer.h.0.attn.c_attn.weight")).isTrue();
        assertThat(AdamW.decaysByDefault("transformer.wte.weight")).isTrue();
        assertThat(AdamW.decaysByDefault("transformer.h.11.mlp.c_proj.weight")).isTrue();
        assertThat(AdamW.decaysByDefault("transformer.h.0.attn.c_attn.bias")).isFalse();
        assertThat(AdamW.decaysByDefault("transformer.h.0.ln_1.weight")).isFalse();
        assertThat(AdamW.decaysByDefault("transformer.ln_f.weight")).isFalse();
        assertThat(AdamW.decaysByDefault("model.layers.0.input_layernorm.weight")).isFalse();
        assertThat(AdamW.decaysByDefault("encoder.LayerNorm.weight")).isFalse();
        assertThat(AdamW.decaysByDefault("bias")).isFalse();

        // With a zero gradient the update is pure decay: decayed params shrink, the others stay put.
        Parameter w = param(1f, 2f);
        Parameter b = param(1f, 2f);
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("layer.weight", w);
        params.put("layer.bias", b);
        AdamW opt = new AdamW(params, new AdamW.Options(0.1, 0.9, 0.999, 1e-8, 0.5));
        w.setGrad(Tensor.zeros(2));
        b.setGrad(Tensor.zeros(2));
        opt.step();
        assertThat(w.toFloatArray()).containsExactly(0.95f, 1.9f);
        assertThat(b.toFloatArray()).containsExactly(1f, 2f);
        assertThat(opt.decays("layer.weight")).isTrue();
        assertThat(opt.decays("layer.bias")).isFalse();
    }

    @Test
    void parametersWithoutGradientAreSkippedAndKeepTheirStepCount() {
        Parameter a = param(1f);
        Parameter b = param(1f);
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("a", a);
        params.put("b", b);
        AdamW opt = new AdamW(params, AdamW.Options.defaults(0.1));
        a.setGrad(Tensor.vector(1f));
        opt.step();
        assertThat(b.toFloatArray()).containsExactly(1f);
        assertThat(opt.step("a")).isEqualTo(1);
        assertThat(opt.step("b")).isZero();
        assertThat(a.toFloatArray()[0]).isCloseTo(1f * (1 - 0.1f * 0.01f) - 0.1f, within(1e-6f));
    }

    @Test
    void stateRoundTripsAndAResumedOptimizerContinuesIdentically() {
        Parameter p1 = param(0.3f, -0.7f, 1.1f);
        Parameter p2 = param(0.3f, -0.7f, 1.1f);
        AdamW o1 = new AdamW(Map.of("p", p1), AdamW.Options.defaults(0.05));
        AdamW o2 = new AdamW(Map.of("p", p2), AdamW.Options.defaults(0.05));
        p1.setGrad(Tensor.vector(0.5f, -1f, 0.25f));
        o1.step();
        o2.loadState(o1.stateTensors(), o1.stepCounts());
        p2.setData(p1.copy());
        for (Parameter p : new Parameter[] {p1, p2}) {
            p.setGrad(Tensor.vector(-0.1f, 0.2f, 0.3f));
        }
        o1.step();
        o2.step();
        assertThat(p2.toFloatArray()).containsExactly(p1.toFloatArray());
        assertThatThrownBy(() -> o2.loadState(Map.of(), o1.stepCounts()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("p.exp_avg");
    }

    @Test
    void rejectsInvalidOptions() {
        assertThatThrownBy(() -> new AdamW.Options(-1, 0.9, 0.999, 1e-8, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AdamW.Options(1e-3, 1.0, 0.999, 1e-8, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
