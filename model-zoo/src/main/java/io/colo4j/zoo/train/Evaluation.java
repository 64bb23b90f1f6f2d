package io.colo4j.zoo.train;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.zoo.io.InputFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Held-out loss over a tokens file, as each family defines it ({@link LanguageModel#evalLoss}): mean next-token
 * cross-entropy for the causal LMs, BERT's masked-LM loss over a seeded 15% mask of each line, T5's teacher-forced
 * loss of {@code source ||| target} lines.
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * Reads a tokens file: one sequence per non-blank line, ids separated by whitespace. Every sequence
     * needs at least 2 ids (one to read, one to predict).
     */
    public static List<int[]> readTokenLines(Path file) throws IOException {
        return readTokenLines(file, 2);
    }

    /** {@link #readTokenLines(Path)} with at least {@code minIds} ids per sequence (a prompt to continue may have 1). */
    public static List<int[]> readTokenLines(Path file, int minIds) throws IOException {
        List<int[]> out = new ArrayList<>();
        for (Line line : readLines(file)) {
            if (line.target() != null) {
                throw new IOException(file + ": line " + line.number() + ": '" + SEPARATOR + "' belongs in an encoder-decoder model's"
                        + " 'source " + SEPARATOR + " target' lines, not in plain sequences of ids");
            }
            if (line.ids().length < minIds) {
                throw new IOException(file + ": line " + line.number() + " has " + line.ids().length + " id(s); a sequence needs at least " + minIds);
            }
            out.add(line.ids());
        }
        return out;
    }

    /** What a tokens file separates an encoder's input from the target with ({@code source ||| target}). */
    public static final String SEPARATOR = "|||";

    /**
     * One line of a tokens file: its number (from 1), its ids and, for an encoder-decoder model, the ids after
     * {@link #SEPARATOR} (null when the line has none).
     */
    public record Line(int number, int[] ids, int[] target) {}

    /** A loss summed over {@code count} predicted tokens. */
    public record Sum(double loss, long count) {
        public Sum plus(Sum other) {
            return new Sum(loss + other.loss, count + other.count);
        }
    }

    /** The lines of a tokens file: whitespace-separated ids, at most one {@link #SEPARATOR} per line; blank lines skipped. */
    public static List<Line> readLines(Path file) throws IOException {
        List<Line> out = new ArrayList<>();
        List<String> lines = InputFiles.readUtf8(file, "tokens file").lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] halves = line.split(Pattern.quote(SEPARATOR), -1);
            if (halves.length > 2) {
                throw new IOException(file + ": line " + (i + 1) + " has more than one '" + SEPARATOR + "'");
            }
            out.add(new Line(i + 1, ids(file, i + 1, halves[0]), halves.length == 2 ? ids(file, i + 1, halves[1]) : null));
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no token sequences");
        }
        return out;
    }

    private static int[] ids(Path file, int line, String text) throws IOException {
        String stripped = text.strip();
        if (stripped.isEmpty()) {
            return new int[0];
        }
        String[] parts = stripped.split("\\s+");
        int[] ids = new int[parts.length];
        for (int j = 0; j < parts.length; j++) {
            try {
                ids[j] = Integer.parseInt(parts[j]);
            } catch (NumberFormatException e) {
                throw new IOException(file + ": line " + line + ": '" + parts[j] + "' is not a token id");
            }
            if (ids[j] < 0) {
                throw new IOException(file + ": line " + line + ": negative token id " + ids[j]);
            }
        }
        return ids;
    }

    /**
     * The mean loss of {@code model} over the lines, as its family defines it ({@link LanguageModel#evalLoss}), in eval
     * mode (no dropout) and without a graph.
     */
    public static double meanLoss(LanguageModel model, List<Line> lines, int maxBatch) {
        return inEvalMode(model, () -> model.evalLoss(lines, Math.max(1, maxBatch)));
    }

    /** The mean of {@code sum}'s loss computed in eval mode without a graph; the model's mode is restored after. */
    private static double inEvalMode(LanguageModel model, java.util.function.Supplier<Sum> sum) {
        boolean wasTraining = model.module().isTraining();
        model.module().eval();
        try (GradMode.Guard ignored = GradMode.disabled()) {
            Sum s = sum.get();
            return s.loss() / s.count();
        } finally {
            model.module().train(wasTraining);
        }
    }

    /**
     * The summed loss of {@code lines} in batches of equal-shaped lines (same length, same target length), at most
     * {@code maxBatch} each, every batch's memory freed after it; {@code batchLoss} gives one batch's sum.
     */
    public static Sum sumOverBatches(List<Line> lines, int maxBatch, Function<List<Line>, Sum> batchLoss) {
        Map<List<Integer>, List<Line>> byShape = new TreeMap<>(Comparator.comparing((List<Integer> k) -> k.get(0)).thenComparing(k -> k.get(1)));
        for (Line line : lines) {
            byShape.computeIfAbsent(List.of(line.ids().length, line.target() == null ? -1 : line.target().length), k -> new ArrayList<>())
                    .add(line);
        }
        Sum total = new Sum(0, 0);
        for (List<Line> group : byShape.values()) {
            for (int from = 0; from < group.size(); from += maxBatch) {
                try (MemoryScope scope = MemoryScope.open()) {
                    total = total.plus(batchLoss.apply(group.subList(from, Math.min(group.size(), from + maxBatch))));
                }
            }
        }
        return total;
    }

    /**
     * Refuses a line the model cannot read: a {@code target} where the family takes none or none where it needs one,
     * fewer than {@code minIds} ids, more than {@code positions}, an id outside the vocabulary. {@code what} names the family.
     */
    public static void check(Line line, LanguageModel model, String what, boolean target, int minIds, int positions) {
        String where = "line " + line.number() + ": ";
        if (target != (line.target() != null)) {
            throw new IllegalArgumentException(where + (target ? what + " reads 'source " + SEPARATOR + " target' lines"
                    : "'" + SEPARATOR + "' separates an encoder-decoder model's source and target; " + what + " reads plain lines of ids"));
        }
        for (int[] ids : line.target() == null ? List.of(line.ids()) : List.of(line.ids(), line.target())) {
            if (ids.length < minIds) {
                throw new IllegalArgumentException(where + ids.length + " id(s); " + what + " needs at least " + minIds);
            }
            for (int id : ids) {
                if (id >= model.vocabSize()) {
                    throw new IllegalArgumentException(where + "token id " + id + " is outside the model's vocabulary of " + model.vocabSize());
                }
            }
        }
        if (line.ids().length > positions) {
            throw new IllegalArgumentException(where + line.ids().length + " ids; at most " + positions + " fit the model's positions");
        }
    }

    /** Next-token cross-entropy summed over tokens 1..n-1 of each line, predicted from 0..n-2 (a causal LM's eval loss). */
    public static Sum nextTokenSum(LanguageModel model, List<Line> lines, int maxBatch) {
        for (Line line : lines) {
            check(line, model, "a causal LM", false, 2, model.maxSequenceLength() + 1);
        }
        return sumOverBatches(lines, maxBatch, batch -> {
            int b = batch.size();
            int t = batch.get(0).ids().length - 1;
            int[] x = new int[b * t];
            int[] y = new int[b * t];
            for (int i = 0; i < b; i++) {
                int[] s = batch.get(i).ids();
                System.arraycopy(s, 0, x, i * t, t);
                System.arraycopy(s, 1, y, i * t, t);
            }
            Tensor loss = model.loss(IntTensor.of(x, b, t), IntTensor.of(y, b, t), 0);
            return new Sum((double) loss.item() * b * t, (long) b * t);
        });
    }

    /**
     * Mean over every predicted token (tokens 1..n-1 of each sequence from tokens 0..n-2) of the
     * cross-entropy, in eval mode (no dropout) and without a graph; sequences of equal length are
     * batched, up to {@code maxBatch} at a time.
     */
    public static double meanNextTokenLoss(LanguageModel model, List<int[]> sequences, int maxBatch) {
        List<Line> lines = new ArrayList<>();
        for (int[] s : sequences) {
            lines.add(new Line(lines.size() + 1, s, null));
        }
        return inEvalMode(model, () -> nextTokenSum(model, lines, Math.max(1, maxBatch)));
    }
}
