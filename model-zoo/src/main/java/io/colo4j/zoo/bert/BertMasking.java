package io.colo4j.zoo.bert;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;

/**
 * BERT's masked-LM corruption, deterministic in a seed: each position is chosen with probability
 * {@code probability} (0.15); a chosen token becomes {@code mask_token_id} 80% of the time, a random
 * id 10%, and stays 10%; labels hold the original token at chosen positions and -100 elsewhere. Every
 * draw is a counter-based function of the seed and the position, so the same seed masks the same
 * positions on every rank and in a resumed run. A window in which no position is drawn gets one
 * (chosen by the seed), so its loss is always defined.
 */
public final class BertMasking {
    /** The share of positions BERT predicts. */
    public static final float PROBABILITY = 0.15f;
    public static final int IGNORE = -100;

    /** The corrupted inputs and the labels. */
    public record Masked(IntTensor inputs, IntTensor labels) {
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
        if (!(probability > 0f && probability <= 1f)) {
            throw new IllegalArgumentException("masking probability must lie in (0, 1], got " + probability);
        }
        int n = ids.numel();
        if (n == 0) {
            throw new IllegalArgumentException("bert: cannot mask an empty window");
        }
        int[] in = ids.data().clone();
        int[] labels = new int[n];
        boolean any = false;
        for (int i = 0; i < n; i++) {
            labels[i] = IGNORE;
            if (Init.Random.unit(seed, 3L * i) <= probability) {
                corrupt(in, labels, ids, i, seed, vocabSize, maskTokenId);
                any = true;
            }
        }
        if (!any) {
            int i = (int) Math.min(n - 1, (long) (Init.Random.unit(seed, -1L) * n));
            corrupt(in, labels, ids, i, seed, vocabSize, maskTokenId);
        }
        int[] shape = ids.shape();
        return new Masked(IntTensor.of(in, shape), IntTensor.of(labels, shape));
    }

    private static void corrupt(int[] in, int[] labels, IntTensor ids, int i, long seed, int vocabSize, int maskTokenId) {
        labels[i] = ids.get(i);
        double r = Init.Random.unit(seed, 3L * i + 1);
        if (r <= 0.8) {
            in[i] = maskTokenId;
        } else if (r <= 0.9) {
            in[i] = (int) Math.min(vocabSize - 1, (long) (Init.Random.unit(seed, 3L * i + 2) * vocabSize));
        }
    }
}
