package io.colo4j.zoo.train;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A step whose loss or gradient norm is NaN or infinite: the run stops there, before the optimizer step would
 * carry it into the weights, and saves nothing (the last good checkpoint stays {@code latest}). The message names
 * the step, where the value came from when that is known (a dp replica), the last good checkpoint and what to change.
 */
public final class TrainingDiverged extends IllegalStateException {
    private final long step;

    private TrainingDiverged(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The step whose loss or gradient was not finite, counted as the progress line counts (1 = the first). */
    public long step() {
        return step;
    }

    /**
     * @param step      the step's 0-based index (the number of steps completed before it)
     * @param steps     the steps of the whole run
     * @param what      "loss" or "gradient norm"
     * @param where     where it was not finite (e.g. "on dp replica 1 of 2"), or empty
     * @param lastGood  the run's last checkpoint (written or resumed from), or null
     * @param saveDir   the run's save folder, or null
     * @param hint      what to change
     */
    static TrainingDiverged at(long step, long steps, String what, double value, String where, Path lastGood, Path saveDir, String hint) {
        String saved = lastGood != null ? "the last good checkpoint is " + lastGood + " (--resume " + (saveDir != null ? saveDir : lastGood) + ")"
                : saveDir != null ? "no checkpoint of this run was written yet" : "nothing is saved (no --save)";
        return new TrainingDiverged(step + 1, String.format(Locale.ROOT,
                "step %d/%d: the %s is %s%s; stopped before the optimizer step, so no weight took it and nothing was saved; %s; %s",
                step + 1, steps, what, value, where.isEmpty() ? "" : " " + where, saved, hint));
    }
}
