package io.colo4j.zoo.train;

import com.fasterxml.jackson.databind.node.ArrayNode;
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

    void add(float loss, double lr, double gradNorm) {
        losses.add(loss);
        lrs.add(lr);
        gradNorms.add(gradNorm);
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

    /** Adds {@code losses}, {@code lrs} and {@code grad_norms} arrays to a checkpoint's state. */
    void writeJson(ObjectNode state) {
        ArrayNode l = state.putArray("losses");
        losses.forEach(l::add);
        ArrayNode r = state.putArray("lrs");
        lrs.forEach(r::add);
        ArrayNode g = state.putArray("grad_norms");
        gradNorms.forEach(g::add);
    }

    /** Replaces this history with a checkpoint's ({@link TrainState}: one entry per step, checked). */
    void restore(List<Float> losses, List<Double> lrs, List<Double> gradNorms) {
        this.losses.clear();
        this.lrs.clear();
        this.gradNorms.clear();
        this.losses.addAll(losses);
        this.lrs.addAll(lrs);
        this.gradNorms.addAll(gradNorms);
    }
}
