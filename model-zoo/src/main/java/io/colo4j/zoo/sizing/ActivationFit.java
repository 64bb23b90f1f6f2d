package io.colo4j.zoo.sizing;

import java.util.List;

/**
 * Step-scoped bytes per rank as a function of the window: {@code c0 + c1 b s + c2 b s^2 + c3 s^2 + c4 s}. The terms are
 * what a transformer step allocates: per-step temporaries of a fixed size (the parameters' gradients before they are
 * accumulated), activations per token ([b, s, width]: linear in b x s), attention scores and their softmax
 * ([b, heads, s, s]), masks or position biases over the window alone ([s, s]) and per position, whatever the batch
 * (a position table's rows read for the window, [s, width], and their gradient). Five windows determine the five
 * coefficients ({@link #windows}); fits add and scale, so a model's bytes are a sum of its parts' fits.
 */
public record ActivationFit(double constant, double perToken, double perTokenSeq, double perSeqSquared, double perPosition) {
    public static final ActivationFit ZERO = new ActivationFit(0, 0, 0, 0, 0);
    private static final int TERMS = 5;

    /**
     * The five windows a fit is measured at: base, twice its batch, twice its seq, both doubled, three times its seq (the
     * batch-free terms need three seqs: a per-position [s, width] tensor fitted as s^2 would be counted s / 24 times over
     * at s = 1024).
     */
    public static List<StepTrace.Window> windows(StepTrace.Window base) {
        int b = base.batch();
        int s = base.seq();
        return List.of(base, new StepTrace.Window(2 * b, s), new StepTrace.Window(b, 2 * s), new StepTrace.Window(2 * b, 2 * s),
                new StepTrace.Window(b, 3 * s));
    }

    /** Solves for the coefficients from the bytes measured at {@link #windows}. */
    public static ActivationFit of(List<StepTrace.Window> windows, List<Long> bytes) {
        if (windows.size() != TERMS || bytes.size() != TERMS) {
            throw new IllegalArgumentException("a fit needs " + TERMS + " windows and their bytes, got " + windows.size() + " and "
                    + bytes.size());
        }
        double[][] a = new double[TERMS][TERMS + 1];
        for (int i = 0; i < TERMS; i++) {
            double[] row = terms(windows.get(i).batch(), windows.get(i).seq());
            System.arraycopy(row, 0, a[i], 0, TERMS);
            a[i][TERMS] = bytes.get(i);
        }
        double[] c = solve(a);
        return new ActivationFit(c[0], c[1], c[2], c[3], c[4]);
    }

    private static double[] terms(double b, double s) {
        return new double[] {1, b * s, b * s * s, s * s, s};
    }

    /** Gaussian elimination with partial pivoting on an augmented 5 x 6 system (the windows above make it regular). */
    private static double[] solve(double[][] a) {
        int n = a.length;
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
                    pivot = r;
                }
            }
            double[] tmp = a[col];
            a[col] = a[pivot];
            a[pivot] = tmp;
            if (a[col][col] == 0) {
                throw new IllegalArgumentException("the fit's windows do not determine its coefficients");
            }
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = a[r][col] / a[col][col];
                    for (int k = col; k <= n; k++) {
                        a[r][k] -= f * a[col][k];
                    }
                }
            }
        }
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = a[i][n] / a[i][i];
        }
        return x;
    }

    /** Bytes at {@code batch} sequences of {@code seq} tokens. */
    public double at(long batch, long seq) {
        double[] t = terms(batch, seq);
        return constant * t[0] + perToken * t[1] + perTokenSeq * t[2] + perSeqSquared * t[3] + perPosition * t[4];
    }

    public ActivationFit plus(ActivationFit o) {
        return new ActivationFit(constant + o.constant, perToken + o.perToken, perTokenSeq + o.perTokenSeq, perSeqSquared + o.perSeqSquared,
                perPosition + o.perPosition);
    }

    public ActivationFit minus(ActivationFit o) {
        return plus(o.times(-1));
    }

    public ActivationFit times(double f) {
        return new ActivationFit(constant * f, perToken * f, perTokenSeq * f, perSeqSquared * f, perPosition * f);
    }
}
