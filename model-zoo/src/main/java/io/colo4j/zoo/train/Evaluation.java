package io.colo4j.zoo.train;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Held-out loss: mean next-token cross-entropy over sequences of token ids. */
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
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\\s+");
            int[] ids = new int[parts.length];
            for (int j = 0; j < parts.length; j++) {
                try {
                    ids[j] = Integer.parseInt(parts[j]);
                } catch (NumberFormatException e) {
                    throw new IOException(file + ": line " + (i + 1) + ": '" + parts[j] + "' is not a token id");
                }
                if (ids[j] < 0) {
                    throw new IOException(file + ": line " + (i + 1) + ": negative token id " + ids[j]);
                }
            }
            if (ids.length < minIds) {
                throw new IOException(file + ": line " + (i + 1) + " has " + ids.length + " id(s); a sequence needs at least " + minIds);
            }
            out.add(ids);
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no token sequences");
        }
        return out;
    }

    /**
     * Mean over every predicted token (tokens 1..n-1 of each sequence from tokens 0..n-2) of the
     * cross-entropy, in eval mode (no dropout) and without a graph; sequences of equal length are
     * batched, up to {@code maxBatch} at a time.
     */
    public static double meanNextTokenLoss(LanguageModel model, List<int[]> sequences, int maxBatch) {
        Map<Integer, List<int[]>> byLength = new TreeMap<>();
        for (int[] s : sequences) {
            if (s.length < 2) {
                throw new IllegalArgumentException("a sequence needs at least 2 tokens");
            }
            if (s.length - 1 > model.maxSequenceLength()) {
                throw new IllegalArgumentException("a sequence of " + s.length + " tokens needs " + (s.length - 1)
                        + " positions; the model has " + model.maxSequenceLength());
            }
            for (int id : s) {
                if (id >= model.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the model's vocabulary of " + model.vocabSize());
                }
            }
            byLength.computeIfAbsent(s.length, k -> new ArrayList<>()).add(s);
        }
        boolean wasTraining = model.module().isTraining();
        model.module().eval();
        double total = 0;
        long count = 0;
        try (GradMode.Guard ignored = GradMode.disabled()) {
            for (Map.Entry<Integer, List<int[]>> e : byLength.entrySet()) {
                int t = e.getKey() - 1;
                List<int[]> group = e.getValue();
                for (int from = 0; from < group.size(); from += Math.max(1, maxBatch)) {
                    int b = Math.min(Math.max(1, maxBatch), group.size() - from);
                    int[] x = new int[b * t];
                    int[] y = new int[b * t];
                    for (int i = 0; i < b; i++) {
                        int[] s = group.get(from + i);
                        System.arraycopy(s, 0, x, i * t, t);
                        System.arraycopy(s, 1, y, i * t, t);
                    }
                    try (MemoryScope scope = MemoryScope.open()) {
                        Tensor loss = model.loss(IntTensor.of(x, b, t), IntTensor.of(y, b, t), 0);
                        total += (double) loss.item() * b * t;
                    }
                    count += (long) b * t;
                }
            }
        } finally {
            model.module().train(wasTraining);
        }
        return total / count;
    }
}
