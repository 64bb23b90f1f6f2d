package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlockTransposeTest {
    private static final int L = Vec.L;

    /** The block at (s0, ss) of {@code src} transposed into {@code dst} at (d0, ds) by the scalar definition. */
    private static float[] reference(float[] src, int s0, int ss, float[] dst, int d0, int ds, float alpha) {
        float[] want = dst.clone();
        for (int i = 0; i < L; i++) {
            for (int j = 0; j < L; j++) {
                want[d0 + j * ds + i] = alpha == 1f ? src[s0 + i * ss + j] : alpha * src[s0 + i * ss + j];
            }
        }
        return want;
    }

    private static float[] randomWithSpecials(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-4, 4);
        }
        float[] specials = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            -Float.MAX_VALUE};
        for (int i = 0; i < specials.length; i++) {
            x[(i * 37 + 11) % n] = specials[i];
        }
        return x;
    }

    @Test
    void bothFormsMatchTheScalarTransposeBitForBitAtAnyStridesAndScales() {
        int ss = L + 5;
        int ds = 2 * L + 3;
        int s0 = 7;
        int d0 = 9;
        for (float alpha : new float[] {1f, -0.5f, 3f, 1e-30f}) {
            float[] src = randomWithSpecials(s0 + L * ss + L, 42);
            float[] before = randomWithSpecials(d0 + L * ds + L, 43);
            float[] want = reference(src, s0, ss, before, d0, ds, alpha);
            float[] scratch = new float[BlockTranspose.SCRATCH];

            float[] fast = before.clone();
            BlockTranspose.transpose(src, s0, ss, fast, d0, ds, alpha, scratch);
            float[] staged = before.clone();
            BlockTranspose.throughScratch(src, s0, ss, staged, d0, ds, alpha, scratch);

            for (float[] got : new float[][] {fast, staged}) {
                for (int i = 0; i < want.length; i++) {
                    assertThat(Float.floatToRawIntBits(got[i])).as("alpha %s, float %d (%s vs %s): %s", alpha, i,
                            got[i], want[i], got == fast ? "transpose" : "throughScratch")
                            .isEqualTo(Float.floatToRawIntBits(want[i]));
                }
            }
        }
    }
}
