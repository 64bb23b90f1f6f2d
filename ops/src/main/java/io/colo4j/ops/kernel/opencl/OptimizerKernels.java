package io.colo4j.ops.kernel.opencl;

import io.colo4j.tensor.Tensor;

/**
 * Fused optimizer updates a device backend runs where the parameters live, so an optimizer step never pulls
 * parameters, gradients or moments back to the host. A backend that implements this is used by an optimizer
 * through {@code Backends.current() instanceof OptimizerKernels k}; backends that do not (cpu) keep the
 * optimizer's own loop.
 *
 * <p>Kept in this package for now because only the opencl backend implements it; it has no OpenCL types and can
 * move to {@code io.colo4j.ops.kernel} unchanged.
 */
public interface OptimizerKernels {

    /**
     * The per-parameter, per-step scalars of torch.optim.AdamW, rounded to float exactly as {@code AdamW} does:
     * <pre>
     *   p = p * decay;  m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
     *   p -= stepSize * m / (sqrt(v) * invBias2Sqrt + eps)
     * </pre>
     */
    record AdamWScalars(float decay, float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float stepSize,
                        float invBias2Sqrt, float eps) {

        /** From the optimizer's options and the parameter's step count {@code t >= 1}. */
        public static AdamWScalars of(double lr, double beta1, double beta2, double eps, double weightDecay, long t) {
            if (t < 1) {
                throw new IllegalArgumentException("AdamW step count must be >= 1, got " + t);
            }
            double bc1 = 1 - Math.pow(beta1, t);
            double bc2 = 1 - Math.pow(beta2, t);
            return new AdamWScalars((float) (1 - lr * weightDecay), (float) beta1, (float) beta2, (float) (1 - beta1),
                    (float) (1 - beta2), (float) (lr / bc1), (float) (1 / Math.sqrt(bc2)), (float) eps);
        }
    }

    /**
     * One AdamW update in place of {@code param}, {@code expAvg} and {@code expAvgSq}; all four tensors are
     * contiguous with the same number of elements.
     */
    void adamWStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, AdamWScalars s);
}
