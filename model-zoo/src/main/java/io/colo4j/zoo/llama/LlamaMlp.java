package io.colo4j.zoo.llama;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.ops.nn.Linear;

/** HF's LlamaMLP (SwiGLU): down_proj(silu(gate_proj(x)) * up_proj(x)), no biases. */
public final class LlamaMlp extends Module {
    private final Linear gateProj;
    private final Linear upProj;
    private final Linear downProj;

    public LlamaMlp(LlamaConfig config, String path, long seed) {
        int d = config.hiddenSize();
        int i = config.intermediateSize();
        float std = config.initializerRange();
        this.gateProj = registerModule("gate_proj", new Linear(path + ".gate_proj", d, i, false, std, seed));
        this.upProj = registerModule("up_proj", new Linear(path + ".up_proj", d, i, false, std, seed));
        this.downProj = registerModule("down_proj", new Linear(path + ".down_proj", i, d, false, std, seed));
    }

    public Tensor forward(Tensor x) {
        return downProj.forward(F.mul(F.silu(gateProj.forward(x)), upProj.forward(x)));
    }
}
