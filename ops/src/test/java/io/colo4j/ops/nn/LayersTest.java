package io.colo4j.ops.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;
import org.junit.jupiter.api.Test;

/** The user-facing layers: both Linear layouts compute the same map, seeding is by name, dropout is the functional one's. */
class LayersTest {
    private static Tensor input(long seed, int... shape) {
        return Tensor.init(Init.normal(seed, 0, 1), shape);
    }

    @Test
    void bothLinearLayoutsComputeTheSameMapFromTransposedWeights() {
        Linear torch = new Linear(WeightLayout.OUT_IN, 4, 5, Init.normal(1, 0, 0.3f), Init.normal(2, 0, 0.1f));
        Linear conv1d = new Linear(WeightLayout.IN_OUT, 4, 5, Init.zeros(), Init.normal(2, 0, 0.1f));
        try (GradMode.Guard ignored = GradMode.disabled()) {
            conv1d.weight().copyFrom(torch.weight().transpose(0, 1).contiguous());
        }
        assertThat(torch.weight().shape()).containsExactly(5, 4);
        assertThat(conv1d.weight().shape()).containsExactly(4, 5);
        assertThat(torch.weightLayout()).isEqualTo(WeightLayout.OUT_IN);
        assertThat(conv1d.weightLayout()).isEqualTo(WeightLayout.IN_OUT);
        assertThat(conv1d.inFeatures()).isEqualTo(4);
        assertThat(conv1d.outFeatures()).isEqualTo(5);
        Tensor x = input(3, 2, 3, 4);
        float[] a = torch.forward(x).toFloatArray();
        float[] b = conv1d.forward(x).toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertThat(b[i]).as("element %d", i).isCloseTo(a[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
        assertThat(conv1d.forwardWithoutBias(x).toFloatArray()).containsExactly(F.addmm(null, x, conv1d.weight()).toFloatArray());
        assertThat(torch.forward(x).toFloatArray()).containsExactly(F.linear(x, torch.weight(), torch.bias()).toFloatArray());
    }

    @Test
    void aLinearWithoutBiasHasOnlyAWeight() {
        Linear l = new Linear(3, 2, false, Init.ones());
        assertThat(l.bias()).isNull();
        assertThat(l.namedParameters()).containsOnlyKeys("weight");
    }

    /** A layer built from a path draws exactly the values a parameter of that name seeded from the model seed has. */
    @Test
    void seededLayersDrawByTheirDottedName() {
        Linear c = Linear.conv1D("transformer.h.0.attn.c_attn", 8, 24, 0.02f, 42);
        Parameter expected = new Parameter(Init.normal(Init.Random.seed(42, "transformer.h.0.attn.c_attn.weight"), 0f, 0.02f), 8, 24);
        assertThat(c.weight().toFloatArray()).containsExactly(expected.toFloatArray());
        assertThat(c.bias().toFloatArray()).containsOnly(0f);
        Linear q = new Linear("model.layers.0.self_attn.q_proj", 8, 8, false, 0.02f, 42);
        assertThat(q.weight().toFloatArray())
                .containsExactly(new Parameter(Params.normal(42, "model.layers.0.self_attn.q_proj.weight", 0.02f), 8, 8).toFloatArray());
    }

    @Test
    void normsAreNormalizationsWithTheirInitialValues() {
        LayerNorm ln = new LayerNorm(6, 1e-5f);
        assertThat(ln).isInstanceOf(Normalization.class);
        assertThat(ln.weight().toFloatArray()).containsOnly(1f);
        assertThat(ln.bias().toFloatArray()).containsOnly(0f);
        LayerNorm spread = new LayerNorm(6, 1e-5f, Init.uniform(1, 0.5f, 1.5f), Init.constant(0.25f));
        assertThat(spread.bias().toFloatArray()).containsOnly(0.25f);
        assertThat(new RmsNorm(6, 1e-6f)).isInstanceOf(Normalization.class);
        Embedding e = new Embedding(10, 4, Init.normal(5, 0, 1));
        assertThat(e.weightLayout()).isEqualTo(WeightLayout.IN_OUT);
        assertThat(e.numEmbeddings()).isEqualTo(10);
    }

    /** The layer draws the site's mask from the step seed: what the zoo's models do by hand, so a sharded run drops what serial drops. */
    @Test
    void dropoutDrawsItsSitesMaskFromTheStepSeed() {
        Dropout d = new Dropout(0.3f, "h.0.attn_dropout");
        Tensor x = input(7, 4, 37);
        long step = DropoutSeeds.step(1234, 5);
        assertThat(d.forward(x, step).toFloatArray())
                .containsExactly(F.dropout(x, 0.3f, true, DropoutSeeds.site(step, "h.0.attn_dropout")).toFloatArray());
        assertThat(d.forward(x, step).toFloatArray()).isNotEqualTo(new Dropout(0.3f, "h.1.attn_dropout").forward(x, step).toFloatArray());
        d.eval();
        assertThat(d.forward(x, step)).isSameAs(x);
        assertThatThrownBy(() -> new Dropout(1f, "h.0.mlp.dropout")).hasMessageContaining("h.0.mlp.dropout").hasMessageContaining("[0, 1)");
    }
}
