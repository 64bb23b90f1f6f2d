package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** LayerNorm and RMSNorm over the last dim. */
public final class Normalization {
    private Normalization() {}

    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        if (Dispatcher.any(x, gamma, beta)) {
            return Dispatcher.dispatch(Ops.LAYER_NORM, in -> layerNorm(in[0], in[1], in[2], eps), x, gamma, beta);
        }
        int n = x.size(-1);
        if (gamma.dim() != 1 || gamma.size(0) != n || beta.dim() != 1 || beta.size(0) != n) {
            throw ShapeException.of("layer_norm", "weight and bias must be [" + n + "]", x.shape(), gamma.shape(), beta.shape());
        }
        Tensor input = x.isContiguous() ? x.detach() : x.detach().contiguous();
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        Tensor out = Tensor.empty(x.shape());
        Tensor mean = Tensor.empty(rows);
        Tensor rstd = Tensor.empty(rows);
        Tensor g0 = gamma.detach();
        Backends.current().layerNorm(input, g0, beta.detach(), eps, out, mean, rstd);
        return Autograd.record("layer_norm", out, g -> {
            Tensor gx = Tensor.empty(x.shape());
            Tensor gg = gamma.requiresGrad() ? Tensor.zeros(n) : null;
            Tensor gb = beta.requiresGrad() ? Tensor.zeros(n) : null;
            Backends.current().layerNormBackward(input, g0, mean, rstd, g.isContiguous() ? g : g.contiguous(), gx, gg, gb);
            return new Tensor[] {x.requiresGrad() ? gx : null, gg, gb};
        }, x, gamma, beta);
    }

    /** RMSNorm (T5's LayerNorm, Llama's RMSNorm): x / sqrt(mean(x^2) + eps) * weight, no bias. */
    public static Tensor rmsNorm(Tensor x, Tensor gamma, float eps) {
        if (Dispatcher.any(x, gamma)) {
            return Dispatcher.dispatch(Ops.RMS_NORM, in -> rmsNorm(in[0], in[1], eps), x, gamma);
        }
        int n = x.size(-1);
        if (gamma.dim() != 1 || gamma.size(0) != n) {
            throw ShapeException.of("rms_norm", "weight must be [" + n + "]", x.shape(), gamma.shape());
        }
        Tensor input = x.isContiguous() ? x.detach() : x.detach().contiguous();
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        Tensor out = Tensor.empty(x.shape());
        Tensor rstd = Tensor.empty(rows);
        Tensor g0 = gamma.detach();
        Backends.current().rmsNorm(input, g0, eps, out, rstd);
        return Autograd.record("rms_norm", out, g -> {
            Tensor gx = Tensor.empty(x.shape());
            Tensor gg = gamma.requiresGrad() ? Tensor.zeros(n) : null;
            Backends.current().rmsNormBackward(input, g0, rstd, g.isContiguous() ? g : g.contiguous(), gx, gg);
            return new Tensor[] {x.requiresGrad() ? gx : null, gg};
        }, x, gamma);
    }
}
