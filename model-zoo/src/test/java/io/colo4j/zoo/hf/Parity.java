package io.colo4j.zoo.hf;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.train.Evaluation;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What every family's parity test against its PyTorch reference shares: the fixture files
 * (tools/make_*_fixtures.sh, tools/torch_*.py), and the check that the same weights give the
 * reference's per-parameter gradient norms and AdamW trajectory.
 */
public final class Parity {
    private Parity() {}

    /** {@code sub} in the test resource folder {@code dir} (e.g. "/gpt2-ref"). */
    public static Path fixture(String dir, String sub) {
        try {
            return Path.of(Parity.class.getResource(dir).toURI()).resolve(sub);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reference's step-0 gradient norms by parameter and its loss at each step. */
    public record Expected(Map<String, Double> gradNorms, List<Double> losses) {
        /** Lines {@code grad_norm NAME NORM} and {@code step I loss LOSS}. */
        public static Expected read(Path file) throws IOException {
            Map<String, Double> norms = new LinkedHashMap<>();
            List<Double> losses = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                String[] p = line.trim().split("\\s+");
                if (p[0].equals("grad_norm")) {
                    norms.put(p[1], Double.parseDouble(p[2]));
                } else if (p[0].equals("step")) {
                    losses.add(Double.parseDouble(p[3]));
                }
            }
            return new Expected(norms, losses);
        }
    }

    /** Inputs and next-token targets from a file of token lines (all of one length): {inputs, targets}. */
    public static IntTensor[] nextTokenBatch(Path tokens) throws IOException {
        List<int[]> seqs = Evaluation.readTokenLines(tokens);
        int b = seqs.size();
        int t = seqs.get(0).length - 1;
        int[] x = new int[b * t];
        int[] y = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(seqs.get(i), 0, x, i * t, t);
            System.arraycopy(seqs.get(i), 1, y, i * t, t);
        }
        return new IntTensor[] {IntTensor.of(x, b, t), IntTensor.of(y, b, t)};
    }

    /** Lines {@code NAME id id ...}, each a [rows, n / rows] tensor. */
    public static Map<String, IntTensor> namedBatch(Path file, int rows) throws IOException {
        Map<String, IntTensor> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] p = line.trim().split("\\s+");
            int[] v = Arrays.stream(p, 1, p.length).mapToInt(Integer::parseInt).toArray();
            out.put(p[0], IntTensor.of(v, rows, v.length / rows));
        }
        return out;
    }

    public static double rel(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
    }

    /**
     * Runs as many AdamW steps (torch's defaults, lr 1e-4, decay on every parameter) as the reference
     * has losses and checks every gradient norm of step 0 against {@code norms} (within 1e-3 relative;
     * a norm that is zero in exact arithmetic, such as a key bias's, whose every entry the softmax
     * cancels, must be rounding noise on both sides: below 1e-7 of the largest norm) and every loss
     * (within {@code lossTolerance} relative). Returns a one-line summary.
     */
    public static String assertMatches(Map<String, Parameter> params, Supplier<Tensor> lossFn, Map<String, Double> norms,
                                       List<Double> losses, double lossTolerance) {
        AdamW opt = new AdamW(params, AdamW.Options.defaults(1e-4), AdamW::decaysAll); // torch.optim.AdamW(m.parameters(), lr=1e-4)
        double largest = norms.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        List<Double> got = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (int step = 0; step < losses.size(); step++) {
            try (MemoryScope _ = MemoryScope.open()) {
                Tensor loss = lossFn.get();
                loss.backward();
                got.add((double) loss.item());
            }
            if (step == 0) {
                for (Map.Entry<String, Double> e : norms.entrySet()) {
                    double norm = Math.sqrt(GradClip.sumOfSquares(params.get(e.getKey()).grad()));
                    if (e.getValue() < 1e-7 * largest) {
                        assertThat(norm).as("%s: zero in exact arithmetic", e.getKey()).isLessThan(1e-7 * largest);
                        continue;
                    }
                    double r = rel(norm, e.getValue());
                    if (r > worst) {
                        worst = r;
                        worstName = e.getKey();
                    }
                }
            }
            opt.step();
            opt.zeroGrad();
        }
        assertThat(worst).as("worst grad-norm relative error (%s)", worstName).isLessThan(1e-3);
        double worstLoss = 0;
        for (int i = 0; i < got.size(); i++) {
            worstLoss = Math.max(worstLoss, rel(got.get(i), losses.get(i)));
            assertThat(rel(got.get(i), losses.get(i))).as("loss after %d AdamW steps", i).isLessThan(lossTolerance);
        }
        return String.format("worst grad-norm relative error %.2e (%s); worst loss relative error %.2e; losses %s vs reference %s",
                worst, worstName, worstLoss, got, losses);
    }
}
