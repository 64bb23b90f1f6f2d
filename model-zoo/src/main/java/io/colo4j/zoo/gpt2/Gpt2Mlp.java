package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.ops.nn.Linear;
import io.colo4j.tensor.Tensor;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.Layer;

/** GPT-2's MLP: c_fc (nEmbd -> 4 nEmbd), gelu_new, c_proj (4 nEmbd -> nEmbd), residual dropout. */
public final class Gpt2Mlp extends Layer<Gpt2Config> {
    private final Linear cFc;
    private final Linear cProj;

    public Gpt2Mlp(Gpt2Config config, String path, long seed) {
        super(config, path);
        int d = config.nEmbd();
        this.cFc = registerModule("c_fc", Linear.conv1D(path + ".c_fc", d, config.nInner(), config.initializerRange(), seed));
        this.cProj = registerModule("c_proj", Linear.conv1D(path + ".c_proj", config.nInner(), d, Gpt2Model.residualStd(config), seed));
    }

    /** residual + dropout(mlp(x)). */
    public Tensor forward(Tensor x, Tensor residual, long dropoutSeed) {
        // c_fc's bias fused into gelu (Megatron's bias_gelu): one pass fewer over the 4 nEmbd activations
        return cProj.forwardDropoutAdd(F.biasGelu(cFc.forwardWithoutBias(x), cFc.bias()), residual, config.residPdrop(), isTraining(),
                DropoutSeeds.site(dropoutSeed, path + ".dropout"));
    }

    public Linear cFc() {
        return cFc;
    }

    public Linear cProj() {
        return cProj;
    }
}
