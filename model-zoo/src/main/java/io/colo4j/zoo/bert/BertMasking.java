package io.colo4j.zoo.bert;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;

/**
 * BERT's masked-LM corruption, deterministic in a seed: each position is chosen with probability
 * {@code probability} (0.15); a chosen token becomes {@code mask_token_id} 80% of the time, a random
 * id 10%, and stays 10%; labels hold the original token at chosen positions and -100 elsewhere. Every
 * draw is a counter-based function of the seed and the position, so the same seed masks the same
 * positions on every rank and in a resumed run. A window in which no position is drawn gets one
 * (chosen by the seed), so its loss is always defined. Positions are counted in the global batch: a
 * data-parallel rank masking its rows (a slice of the window) draws exactly what the whole window
 * draws there, so dp ranks together mask as the serial run does.
 */
public final class BertMasking {
    /** The share of positions BERT predicts. */
    public static final float PROBABILITY = 0.15f;
    public static final int IGNORE = -100;

    /** The corrupted inputs and the labels. */
    /** @param windowCount how many positions the whole window (all dp ranks' slices) predicts */
    public record Masked(IntTensor inputs, IntTensor labels, long windowCount) {
        /** How many positions are predicted. */
        public int count() {
            int n = 0;
            for (int v : labels.data()) {
                if (v != IGNORE) {
                    n++;
                }
            }
            return n;
        }
    }

    private BertMasking() {}

    /** {@link #mask(IntTensor, long, int, int, float)} with 15%. */
    public static Masked mask(IntTensor ids, long seed, int vocabSize, int maskTokenId) {
        return mask(ids, seed, vocabSize, maskTokenId, PROBABILITY);
    }

    public static Masked mask(IntTensor ids, long seed, int vocabSize, int maskTokenId, float probability) {
        return mask(ids, seed, vocabSize, maskTokenId, probability, 0, ids.numel());
    }

    /**
     * The masking of {@code ids}, positions {@code offset ..} of a window of {@code window} positions (a dp
     * rank's rows of the global batch; offset 0 and the ids' size for the whole window).
     */
    public static Masked mask(IntTensor ids, long seed, int vocabSize, int maskTokenId, float probability, long offset, long window) {
        if (!(probability > 0f && probability <= 1f)) {
            throw new IllegalArgumentException("masking probability must lie in (0, 1], got " + probability);
        }
        int n = ids.numel();
        if (n == 0) {
            throw new IllegalArgumentException("bert: cannot mask an empty window");
        }
        if (offset < 0 || offset + n > window) {
            throw new IllegalArgumentException("bert: positions " + offset + ".." + (offset + n) + " lie outside a window of " + window);
        }
        int[] in = ids.data().clone();
        int[] labels = new int[n];
        java.util.Arrays.fill(labels, IGNORE);
        long drawn = 0;
        for (long g = 0; g < window; g++) {
            if (chosen(seed, g, probability)) {
                drawn++;
                if (g >= offset && g < offset + n) {
                    corrupt(in, labels, ids, (int) (g - offset), g, seed, vocabSize, maskTokenId);
                }
            }
        }
        if (drawn == 0) {
            long g = Math.min(window - 1, (long) (Init.Random.unit(seed, -1L) * window));
            if (g >= offset && g < offset + n) {
                corrupt(in, labels, ids, (int) (g - offset), g, seed, vocabSize, maskTokenId);
            }
            drawn = 1;
        }
        int[] shape = ids.shape();
        return new Masked(IntTensor.of(in, shape), IntTensor.of(labels, shape), drawn);
    }

    private static boolean chosen(long seed, long position, float probability) {
        return Init.Random.unit(seed, 3L * position) <= probability;
    }

    /** Local position i, global position g. */
    private static void corrupt(int[] in, int[] labels, IntTensor ids, int i, long g, long seed, int vocabSize, int maskTokenId) {
        labels[i] = ids.get(i);
        double r = Init.Random.unit(seed, 3L * g + 1);
        if (r <= 0.8) {
            in[i] = maskTokenId;
        } else if (r <= 0.9) {
            in[i] = (int) Math.min(vocabSize - 1, (long) (Init.Random.unit(seed, 3L * g + 2) * vocabSize));
        }
    }
}
