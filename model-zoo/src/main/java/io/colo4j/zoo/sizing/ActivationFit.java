package io.colo4j.zoo.sizing;

import java.util.List;

/**
 * Step-scoped bytes per rank as a function of the window: {@code c0 + c1 b s + c2 b s^2 + c3 s^2}. The terms are
 * what a transformer step allocates: per-step temporaries of a fixed size (the parameters' gradients before they are
 * accumulated), activations per token ([b, s, width]: linear in b x s), attention scores and their softmax
 * ([b, heads, s, s]) and masks or position biases over the window alone ([s, s]). Four windows determine the four
 * coefficients ({@link #windows}); fits add and scale, so a model's bytes are a sum of its parts' fits.
 */
public record ActivationFit(double constant, double perToken, double perTokenSeq, double perSeqSquared) {
    public static final ActivationFit ZERO = new ActivationFit(0, 0, 0, 0);

    /** The four windows a fit is measured at: base, twice its batch, twice its seq, both doubled. */
    public static List<StepTrace.Window> windows(StepTrace.Window base) {
        int b = base.batch();
        int s = base.seq();
        return List.of(base, new StepTrace.Window(2 * b, s), new StepTrace.Window(b, 2 * s), new StepTrace.Window(2 * b, 2 * s));
    }

    /** Solves for the coefficients from the bytes measured at {@link #windows}. */
    public static ActivationFit of(List<StepTrace.Window> windows, List<Long> bytes) {
        if (windows.size() != 4 || bytes.size() != 4) {
            throw new IllegalArgumentException("a fit needs 4 windows and their bytes, got " + windows.size() + " and " + bytes.size());
        }
        double[][] a = new double[4][5];
        for (int i = 0; i < 4; i++) {
            double[] row = terms(windows.get(i).batch(), windows.get(i).seq());
            System.arraycopy(row, 0, a[i], 0, 4);
            a[i][4] = bytes.get(i);
        }
        double[] c = solve(a);
        return new ActivationFit(c[0], c[1], c[2], c[3]);
    }

    private static double[] terms(double b, double s) {
        return new double[] {1, b * s, b * s * s, s * s};
    }

    /** Gaussian elimination with partial pivoting on an augmented 4 x 5 system (the windows above make it regular). */
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
        return constant * t[0] + perToken * t[1] + perTokenSeq * t[2] + perSeqSquared * t[3];
    }

    public ActivationFit plus(ActivationFit o) {
        return new ActivationFit(constant + o.constant, perToken + o.perToken, perTokenSeq + o.perTokenSeq, perSeqSquared + o.perSeqSquared);
    }

    public ActivationFit minus(ActivationFit o) {
        return plus(o.times(-1));
    }

    public ActivationFit times(double f) {
        return new ActivationFit(constant * f, perToken * f, perTokenSeq * f, perSeqSquared * f);
    }

    /** Only the attention-score term (b x s^2), what selective recompute drops. */
    public ActivationFit scoresOnly() {
        return new ActivationFit(0, 0, perTokenSeq, 0);
    }
}
