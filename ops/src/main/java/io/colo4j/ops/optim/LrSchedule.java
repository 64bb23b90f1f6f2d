package io.colo4j.ops.optim;

/** The learning rate for each optimizer step (0-based). */
@FunctionalInterface
public interface LrSchedule {
    double lr(long step);

    static LrSchedule constant(double lr) {
        return step -> lr;
    }

    /**
     * Linear warmup from {@code maxLr / warmup} to {@code maxLr} over the first {@code warmup} steps, then
     * cosine decay to {@code maxLr * minRatio} at step {@code totalSteps}, constant after (as nanoGPT).
     */
    static LrSchedule warmupCosine(double maxLr, long warmup, long totalSteps, double minRatio) {
        if (maxLr < 0 || warmup < 0 || totalSteps < 0 || minRatio < 0 || minRatio > 1) {
            throw new IllegalArgumentException("warmupCosine: need maxLr >= 0, warmup >= 0, totalSteps >= 0, 0 <= minRatio <= 1; got "
                    + maxLr + ", " + warmup + ", " + totalSteps + ", " + minRatio);
        }
        double minLr = maxLr * minRatio;
        return step -> {
            if (step < warmup) {
                return maxLr * (step + 1) / warmup;
            }
            if (step >= totalSteps) {
                return minLr;
            }
            double progress = (double) (step - warmup) / Math.max(1, totalSteps - warmup);
            return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (maxLr - minLr);
        };
    }
}
