package io.colo4j.zoo.train;

import java.util.ArrayList;
import java.util.List;

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
        // named one by one, as the CLI's options: the record's toString() would show only zeros here
        List<String> bad = new ArrayList<>();
        check(bad, steps >= 0, "--steps", steps, ">= 0");
        check(bad, batch >= 1, "--batch", batch, ">= 1");
        check(bad, seq >= 1, "--seq", seq, ">= 1");
        check(bad, lr >= 0 && Double.isFinite(lr), "--lr", lr, "finite and >= 0");
        check(bad, warmup >= 0, "--warmup", warmup, ">= 0");
        check(bad, minLrRatio >= 0 && minLrRatio <= 1, "--min-lr-ratio", minLrRatio, "in [0, 1]");
        check(bad, weightDecay >= 0 && Double.isFinite(weightDecay), "--weight-decay", weightDecay, "finite and >= 0");
        check(bad, clip >= 0 && Double.isFinite(clip), "--clip", clip, "finite and >= 0");
        check(bad, beta1 >= 0 && beta1 < 1, "--beta1", beta1, "in [0, 1)");
        check(bad, beta2 >= 0 && beta2 < 1, "--beta2", beta2, "in [0, 1)");
        check(bad, saveEvery >= 0, "--save-every", saveEvery, ">= 0");
        check(bad, logEvery >= 0, "--log-every", logEvery, ">= 0");
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("train config: " + String.join("; ", bad));
        }
    }

    private static void check(List<String> bad, boolean ok, String option, Object value, String must) {
        if (!ok) {
            bad.add(option + " " + value + " must be " + must);
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
