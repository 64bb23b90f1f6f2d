package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;

/**
 * BERT's {@code hidden_act}: {@code gelu} is HF's exact GELU, x Phi(x) = x (1 + erf(x / sqrt 2)) / 2
 * ({@link F#geluExact}); {@code gelu_new} / {@code gelu_pytorch_tanh} the tanh approximation of
 * {@link F#gelu}; {@code relu}.
 */
public final class BertActivations {
    private BertActivations() {}

    public static Tensor apply(String act, Tensor x) {
        return switch (act) {
            case "gelu" -> geluExact(x);
            case "gelu_new", "gelu_pytorch_tanh" -> F.gelu(x);
            case "relu" -> F.relu(x);
            default -> throw new IllegalArgumentException("unknown hidden_act '" + act + "'");
        };
    }

    /** x Phi(x), as torch.nn.functional.gelu with approximate='none'. */
    public static Tensor geluExact(Tensor x) {
        return F.geluExact(x);
    }
}
