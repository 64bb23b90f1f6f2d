package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * exp, tanh and lane sums from IEEE add/mul/fma only. The Vector API's own EXP/TANH and
 * reduceLanes(ADD) round differently once C2 compiles them (SVML, a different reduction tree) than
 * in the interpreter, which would make two runs with the same seed differ in the last bit; these
 * give the same bits in every mode.
 */
public final class VecMath {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MAX_ARG = 88.72283905206835f;
    private static final float MIN_ARG = -87.33654475f;
    /** Cephes expf's P: c0 = 1/2 ... c5 ~ 1/5040, fitted to e^r = 1 + r + r^2 P(r) on |r| <= ln(2) / 2. */
    private static final float C0 = 5.0000001201e-1f;
    private static final float C1 = 1.6666665459e-1f;
    private static final float C2 = 4.1665795894e-2f;
    private static final float C3 = 8.3334519073e-3f;
    private static final float C4 = 1.3981999507e-3f;
    private static final float C5 = 1.9875691500e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);

    private VecMath() {}

    /**
     * e^x to about 2 ulp (Cephes' expf polynomial); +inf above ln(FLT_MAX), 0 below the normal range. Arguments outside
     * [MIN_ARG, MAX_ARG] are not clamped first: their lanes compute garbage that the two blends replace (NaN stays NaN
     * through the arithmetic), so in range every lane does the clamped evaluation's exact operations, in a third fewer
     * instructions. n comes from the rounder's bits: x log2(e) + 1.5 * 2^23 (one fma) holds round(x log2(e)) in its low
     * bits.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector shifted = x.fma(LOG2E, ROUNDER);
        FloatVector p = polynomial(x, shifted.sub(ROUNDER));
        // 2^n in two factors so that n = 128 and n = -126 stay representable
        IntVector ni = shifted.reinterpretAsInts().sub(ROUNDER_BITS);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector scaleA = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scaleB = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector result = p.mul(scaleA).mul(scaleB);
        VectorMask<Float> over = x.compare(VectorOperators.GT, MAX_ARG);
        VectorMask<Float> under = x.compare(VectorOperators.LT, MIN_ARG);
        return result.blend(Float.POSITIVE_INFINITY, over).blend(0f, under);
    }

    /**
     * exp's bits for every argument below 88.37 (n <= 127), the softmax's and log-sum-exp's x - max <= 0: 2^n as one
     * factor and no overflow lane, a quarter fewer instructions. Above, where exp needs its second factor and +inf, it
     * returns garbage: callers shift their arguments by a max first.
     */
    public static FloatVector expShifted(FloatVector x) {
        FloatVector shifted = x.fma(LOG2E, ROUNDER);
        FloatVector p = polynomial(x, shifted.sub(ROUNDER));
        FloatVector scale = shifted.reinterpretAsInts().add(127 - ROUNDER_BITS).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(scale).blend(0f, x.compare(VectorOperators.LT, MIN_ARG));
    }

    /**
     * {@link #expShifted(FloatVector)} of one float, in scalar code with the same IEEE operations in the same order, so
     * the same bits: a row's last partial vector goes through it, and its loop keeps one inlined vector exp.
     */
    static float expShifted(float x) {
        if (x < MIN_ARG) {
            return 0f;
        }
        float shifted = Math.fma(x, LOG2E, ROUNDER);
        float n = shifted - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float r2 = r * r;
        float low = Math.fma(C1, r, C0);
        float mid = Math.fma(C3, r, C2);
        float high = Math.fma(C5, r, C4);
        float p = Math.fma(Math.fma(high, r2, mid), r2, low);
        p = Math.fma(p, r2, r) + 1f;
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(shifted) + 127 - ROUNDER_BITS) << 23);
    }

    /** tanh(x) = 1 - 2 / (e^{2x} + 1): saturates to +-1 without overflow. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector e = exp(x.mul(2f));
        return FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f)));
    }

    /**
     * e^r for r = x - n ln 2 (in two parts), |r| <= ln(2) / 2: Cephes' polynomial, 1 + r + r^2 P(r), with P in Estrin's
     * form (c0 + c1 r) + r^2 ((c2 + c3 r) + r^2 (c4 + c5 r)): a dependent chain of 3 fmas where Horner's was 6, which
     * the core hides better in the row kernels' exp loops (softmax forward, causal softmax and cross-entropy backward
     * ran 1.08-1.10x faster) at the same accuracy (under 3e-7 relative).
     */
    private static FloatVector polynomial(FloatVector x, FloatVector n) {
        FloatVector r = n.fma(bc(-LN2_HI), x);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector r2 = r.mul(r);
        FloatVector low = r.fma(bc(C1), bc(C0));
        FloatVector mid = r.fma(bc(C3), bc(C2));
        FloatVector high = r.fma(bc(C5), bc(C4));
        FloatVector p = high.fma(r2, mid).fma(r2, low);
        return p.fma(r2, r).add(1f);
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(S, v);
    }

    /** The sum of the lanes, always in lane order. */
    static float sum(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Scalar e^x with exactly the vector path's rounding, for loop tails. */
    static float exp(float x) {
        return exp(FloatVector.broadcast(S, x)).lane(0);
    }
}
