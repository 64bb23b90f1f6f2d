package io.colo4j.zoo.train;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What every step of a run so far gave: loss, learning rate and gradient norm, step 0 first. A checkpoint
 * keeps it (so a resumed run's losses.csv and loss.png cover the whole run), and it is written as losses.csv.
 */
final class TrainHistory {
    private final List<Float> losses = new ArrayList<>();
    private final List<Double> lrs = new ArrayList<>();
    private final List<Double> gradNorms = new ArrayList<>();
    /** The 0-based steps whose update was skipped (--skip-nonfinite), in order; their loss or norm may be NaN. */
    private final List<Long> skipped = new ArrayList<>();

    void add(float loss, double lr, double gradNorm) {
        losses.add(loss);
        lrs.add(lr);
        gradNorms.add(gradNorm);
    }

    /** Marks the step just added as skipped: its loss or gradient norm was not finite and no weight took it. */
    void markSkipped() {
        skipped.add((long) losses.size() - 1);
    }

    List<Long> skipped() {
        return Collections.unmodifiableList(skipped);
    }

    /** How many of the last steps were skipped one after another (0 when the last step was not). */
    int skippedInARow() {
        int n = 0;
        for (int i = skipped.size() - 1; i >= 0 && skipped.get(i) == losses.size() - 1 - n; i--) {
            n++;
        }
        return n;
    }

    int size() {
        return losses.size();
    }

    List<Float> losses() {
        return Collections.unmodifiableList(losses);
    }

    void writeCsv(Path csv) throws IOException {
        StringBuilder sb = new StringBuilder("step,loss,lr,grad_norm\n");
        for (int i = 0; i < losses.size(); i++) {
            sb.append(i).append(',').append(losses.get(i)).append(',')
                    .append(i < lrs.size() ? String.format(Locale.ROOT, "%.6e", lrs.get(i)) : "")
                    .append(',').append(i < gradNorms.size() ? String.format(Locale.ROOT, "%.6f", gradNorms.get(i)) : "")
                    .append('\n');
        }
        AtomicFiles.writeString(csv, sb.toString());
    }

    /**
     * Adds {@code losses}, {@code lrs}, {@code grad_norms} and {@code skipped_steps} arrays to a checkpoint's state;
     * a skipped step's non-finite loss or norm is written as null (JSON has no NaN).
     */
    void writeJson(ObjectNode state) {
        ArrayNode l = state.putArray("losses");
        losses.forEach(v -> l.add(Float.isFinite(v) ? JsonNodeFactory.instance.numberNode(v) : NullNode.instance));
        ArrayNode r = state.putArray("lrs");
        lrs.forEach(r::add);
        ArrayNode g = state.putArray("grad_norms");
        gradNorms.forEach(v -> g.add(Double.isFinite(v) ? JsonNodeFactory.instance.numberNode(v) : NullNode.instance));
        ArrayNode s = state.putArray("skipped_steps");
        skipped.forEach(s::add);
    }

    /** Replaces this history with a checkpoint's ({@link TrainState}: one entry per step, checked). */
    void restore(List<Float> losses, List<Double> lrs, List<Double> gradNorms, List<Long> skipped) {
        this.losses.clear();
        this.lrs.clear();
        this.gradNorms.clear();
        this.skipped.clear();
        this.skipped.addAll(skipped);
        this.losses.addAll(losses);
        this.lrs.addAll(lrs);
        this.gradNorms.addAll(gradNorms);
    }
}
