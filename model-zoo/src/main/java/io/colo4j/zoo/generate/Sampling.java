package io.colo4j.zoo.generate;

import io.colo4j.tensor.Init;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * How the next token is picked from its logits: greedy (the argmax, lowest id on ties), or a draw from the softmax of
 * logits / temperature, cut to the {@code topK} most likely ids (0: all) and then to the smallest set of them whose
 * probability reaches {@code topP} (1: all). A draw is a counter-based function of the seed, the prompt and the
 * token's index, so a seed gives the same tokens on every rank, in every run, whatever else was generated before.
 */
public record Sampling(boolean greedy, double temperature, int topK, double topP, long seed) {
    public static final Sampling GREEDY = new Sampling(true, 1, 0, 1, 0);

    public Sampling {
        if (!greedy) {
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("--temperature must be > 0, got " + temperature + " (use --greedy for the argmax)");
            }
            if (topK < 0) {
                throw new IllegalArgumentException("--top-k must be >= 0 (0: every token), got " + topK);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("--top-p must lie in (0, 1], got " + topP);
            }
        }
    }

    /** The token after {@code logits} (one per vocabulary id), the {@code index}-th new token of prompt {@code prompt}. */
    public int next(float[] logits, int prompt, int index) {
        if (greedy) {
            return argmax(logits);
        }
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        int kept = topK == 0 ? order.length : Math.min(topK, order.length);
        double max = logits[order[0]];
        double[] p = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / temperature);
            sum += p[i];
        }
        double cumulative = 0;
        int nucleus = kept;
        for (int i = 0; i < kept; i++) {
            cumulative += p[i] / sum;
            if (cumulative >= topP) {
                nucleus = i + 1;
                break;
            }
        }
        double total = 0;
        for (int i = 0; i < nucleus; i++) {
            total += p[i];
        }
        double u = Init.Random.unit(Init.Random.seed(seed, "generate/prompt/" + prompt), index) * total;
        for (int i = 0; i < nucleus; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[nucleus - 1];
    }

    /** The id of the largest logit; the lowest such id on ties. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
