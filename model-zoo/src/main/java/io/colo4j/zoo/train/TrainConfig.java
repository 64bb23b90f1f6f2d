package io.colo4j.zoo.train;

/**
 * A training run's settings.
 *
 * @param steps       optimizer steps in the whole run
 * @param batch       sequences per step
 * @param seq         tokens per sequence (the model sees seq, predicts seq)
 * @param lr          peak learning rate
 * @param warmup      linear warmup steps
 * @param minLrRatio  cosine decay ends at lr * minLrRatio
 * @param weightDecay AdamW weight decay (not applied to biases and LayerNorm weights)
 * @param beta1       AdamW beta1
 * @param beta2       AdamW beta2
 * @param clip        global gradient-norm clip (0 = off)
 * @param seed        data order (and, through the model, dropout) seed
 * @param saveEvery   checkpoint every this many steps (0 = only at the end); needs a save folder
 * @param logEvery    on a non-terminal, print a line every this many steps (0 = about 20 lines per run)
 */
public record TrainConfig(long steps, int batch, int seq, double lr, long warmup, double minLrRatio, double weightDecay,
                          double beta1, double beta2, double clip, long seed, long saveEvery, long logEvery) {
    public TrainConfig {
        if (steps < 0 || batch < 1 || seq < 1 || !(lr >= 0) || warmup < 0 || !(minLrRatio >= 0 && minLrRatio <= 1)
                || !(weightDecay >= 0) || !(clip >= 0) || saveEvery < 0 || logEvery < 0) {
            throw new IllegalArgumentException("train config: need steps >= 0, batch >= 1, seq >= 1, lr >= 0, warmup >= 0, "
                    + "0 <= min-lr-ratio <= 1, weight decay >= 0, clip >= 0; got " + this);
        }
    }

    /** nanoGPT-like defaults: lr 6e-4, warmup 10% of steps, cosine to 10%, wd 0.1, betas (0.9, 0.95), clip 1. */
    public static TrainConfig defaults(long steps, int batch, int seq) {
        return new TrainConfig(steps, batch, seq, 6e-4, steps / 10, 0.1, 0.1, 0.9, 0.95, 1.0, 1234, 0, 0);
    }

    public TrainConfig withSteps(long s) {
        return new TrainConfig(s, batch, seq, lr, warmup, minLrRatio, weightDecay, beta1, beta2, clip, seed, saveEvery, logEvery);
    }

    public TrainConfig withLr(double v, long w) {
        return new TrainConfig(steps, batch, seq, v, w, minLrRatio, weightDecay, beta1, beta2, clip, seed, saveEvery, logEvery);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(steps, batch, seq, lr, warmup, minLrRatio, weightDecay, beta1, beta2, clip, s, saveEvery, logEvery);
    }

    public TrainConfig withSaveEvery(long every) {
        return new TrainConfig(steps, batch, seq, lr, warmup, minLrRatio, weightDecay, beta1, beta2, clip, seed, every, logEvery);
    }

    public TrainConfig withOptimizer(double wd, double b1, double b2, double clipNorm) {
        return new TrainConfig(steps, batch, seq, lr, warmup, minLrRatio, wd, b1, b2, clipNorm, seed, saveEvery, logEvery);
    }

    public TrainConfig withMinLrRatio(double r) {
        return new TrainConfig(steps, batch, seq, lr, warmup, r, weightDecay, beta1, beta2, clip, seed, saveEvery, logEvery);
    }

    public TrainConfig withLogEvery(long every) {
        return new TrainConfig(steps, batch, seq, lr, warmup, minLrRatio, weightDecay, beta1, beta2, clip, seed, saveEvery, every);
    }
}
