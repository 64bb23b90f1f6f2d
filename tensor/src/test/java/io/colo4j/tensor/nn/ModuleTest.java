package io.colo4j.tensor.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {
    static final class Conv1D extends Module {
        final Parameter weight;
        final Parameter bias;

        Conv1D(int in, int out) {
            weight = registerParameter("weight", new Parameter(Init.normal(1, 0, 0.02f), in, out));
            bias = registerParameter("bias", new Parameter(Init.zeros(), out));
        }
    }

    static final class Mlp extends Module {
        Mlp() {
            registerModule("c_fc", new Conv1D(4, 16));
            registerModule("c_proj", new Conv1D(16, 4));
        }
    }

    static final class Block extends Module {
        Block() {
            registerModule("mlp", new Mlp());
        }
    }

    static final class Transformer extends Module {
        final Parameter wte;

        Transformer() {
            ModuleList<Block> h = registerModule("h", new ModuleList<>());
            h.add(new Block()).add(new Block());
            Module embedding = new Module() {};
            wte = embedding.registerParameter("weight", new Parameter(Init.normal(2, 0, 0.02f), 10, 4));
            registerModule("wte", embedding);
        }
    }

    static final class Gpt extends Module {
        Gpt() {
            registerModule("transformer", new Transformer());
        }
    }

    @Test
    void dottedNamesFollowHuggingFace() {
        Gpt model = new Gpt();
        assertThat(model.namedParameters().keySet()).containsExactly(
                "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_fc.bias",
                "transformer.h.0.mlp.c_proj.weight", "transformer.h.0.mlp.c_proj.bias",
                "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_fc.bias",
                "transformer.h.1.mlp.c_proj.weight", "transformer.h.1.mlp.c_proj.bias",
                "transformer.wte.weight");
        assertThat(model.namedModules()).containsKeys("", "transformer", "transformer.h", "transformer.h.1.mlp.c_proj");
        assertThat(model.parameterCount()).isEqualTo(2 * (4 * 16 + 16 + 16 * 4 + 4) + 40);
    }

    @Test
    void stateDictRoundTripAndStrictErrors() {
        Gpt a = new Gpt();
        Gpt b = new Gpt();
        Map<String, Tensor> state = new HashMap<>(a.stateDict());
        state.put("transformer.wte.weight", Tensor.ones(10, 4));
        b.loadStateDict(state, true);
        assertThat(b.stateDict().get("transformer.wte.weight").toFloatArray()).containsOnly(1f);

        Map<String, Tensor> bad = new HashMap<>(state);
        bad.remove("transformer.h.0.mlp.c_fc.bias");
        bad.put("lm_head.weight", Tensor.ones(1));
        assertThatThrownBy(() -> b.loadStateDict(bad, true))
                .hasMessageContaining("missing keys [transformer.h.0.mlp.c_fc.bias]")
                .hasMessageContaining("unexpected keys [lm_head.weight]");
        Map<String, Tensor> wrongShape = new HashMap<>(state);
        wrongShape.put("transformer.wte.weight", Tensor.ones(4, 10));
        assertThatThrownBy(() -> b.loadStateDict(wrongShape, true))
                .hasMessageContaining("transformer.wte.weight").hasMessageContaining("[4, 10]").hasMessageContaining("[10, 4]");
    }

    @Test
    void duplicateOrDottedNamesAreRejected() {
        assertThatThrownBy(() -> new Module() {
            {
                registerParameter("a.b", new Parameter(Init.zeros(), 1));
            }
        }).hasMessageContaining("a.b");
    }
}
