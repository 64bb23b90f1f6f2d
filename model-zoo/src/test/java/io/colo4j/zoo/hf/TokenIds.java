package io.colo4j.zoo.hf;

import io.colo4j.tensor.IntTensor;

/** Deterministic token ids for the family tests: [b, t], every id below {@code vocab}, {@code shift} giving another batch. */
public final class TokenIds {
    private TokenIds() {}

    public static IntTensor ids(int b, int t, int vocab, int shift) {
        int[] v = new int[b * t];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 7 + shift * 3 + 1) % vocab;
        }
        return IntTensor.of(v, b, t);
    }
}
