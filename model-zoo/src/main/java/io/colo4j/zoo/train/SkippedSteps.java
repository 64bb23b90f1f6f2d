package io.colo4j.zoo.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * {@code --skip-nonfinite}, as mixed-precision trainers do (PyTorch's GradScaler, HF's Trainer): a step whose loss or
 * gradient norm is NaN or infinite is skipped instead of ending the run. The optimizer does not step (weights, AdamW
 * moments and step counts stay as they were), the gradients are zeroed, and the data and learning-rate schedule move
 * on as for any step. {@code maxInARow} skips one after another stop the run ({@link TrainingDiverged}): by then it no
 * longer learns. The skipped steps are part of the history ({@code skipped_steps} in trainer.json), so a resumed run
 * keeps its count and its run of skips.
 */
final class SkippedSteps {
    private final int maxInARow;

    SkippedSteps(int maxInARow) {
        if (maxInARow < 1) {
            throw new IllegalArgumentException("the skipped steps allowed in a row must be >= 1, got " + maxInARow);
        }
        this.maxInARow = maxInARow;
    }

    /** Whether a step with this loss and norm is skipped (the caller has already decided it may be). */
    static boolean nonFinite(float loss, double norm) {
        return !Float.isFinite(loss) || !Double.isFinite(norm);
    }

    /**
     * The line naming a skipped step ({@code history} does not hold it yet); or, when it would be the
     * {@code maxInARow}-th skip in a row, the stop.
     */
    String skipped(long step, long steps, float loss, double norm, double lr, TrainHistory history, Path lastGood, Path saveDir) {
        String what = Float.isFinite(loss) ? "gradient norm" : "loss";
        double value = Float.isFinite(loss) ? norm : loss;
        int inARow = history.skippedInARow() + 1;
        if (inARow >= maxInARow) {
            throw TrainingDiverged.at(step, steps, what, value, "", lastGood, saveDir, String.format(Locale.ROOT,
                    "%d steps in a row (%d..%d) were not finite, so --skip-nonfinite stops here; lower --lr (%.3g at this step)"
                            + " or set --clip", inARow, step + 2 - inARow, step + 1, lr));
        }
        return String.format(Locale.ROOT, "step %d/%d skipped: the %s is %s; no optimizer update, gradients zeroed"
                + " (--skip-nonfinite: %d skipped so far, %d in a row)", step + 1, steps, what, value, history.skipped().size() + 1, inARow);
    }

    /**
     * trainer.json's {@code skipped_steps}: 0-based steps, increasing, each below {@code step}; absent (a checkpoint
     * written before this option existed) means none.
     */
    static List<Long> read(StrictJson json, JsonNode root, long step) throws IOException {
        JsonNode array = root.get("skipped_steps");
        if (array == null) {
            return List.of();
        }
        if (!array.isArray()) {
            throw json.error("skipped_steps", "is " + array.getNodeType().toString().toLowerCase(Locale.ROOT) + ", not an array");
        }
        List<Long> out = new ArrayList<>();
        long min = 0;
        for (int i = 0; i < array.size(); i++) {
            long s = json.integer(array.get(i), "skipped_steps[" + i + "]", min, step - 1);
            out.add(s);
            min = s + 1;
        }
        return Collections.unmodifiableList(out);
    }
}
