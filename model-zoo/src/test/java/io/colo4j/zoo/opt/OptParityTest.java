package io.colo4j.zoo.opt;

import io.colo4j.zoo.hf.HfLanguageModel;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with the reference PyTorch OPT (fixtures from tools/make_opt_fixtures.sh): the same weights give
 * the reference's loss, per-parameter gradient norms and AdamW trajectory, for a pre-LN model saved with
 * OPTForCausalLM keys (and a tied lm_head.weight) and a post-LN, projected one saved with OPTModel keys.
 */
class OptParityTest {
    static Path ref(String sub) {
        try {
            return Path.of(OptParityTest.class.getResource("/opt-ref").toURI()).resolve(sub);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    record Expected(Map<String, Double> gradNorms, List<Double> losses) {}

    static Expected expected(Path file) throws IOException {
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

    /** Inputs and next-token targets from a file of token lines. */
    static IntTensor[] batch(Path tokens) throws IOException {
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

    static double rel(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
    }

    /**
     * Runs 3 AdamW steps as the reference does and checks every gradient norm of step 0 (within 1e-3
     * relative; a norm that is zero in exact arithmetic, such as k_proj.bias's, whose every entry the
     * softmax cancels, must be rounding noise on both sides: below 1e-7 of the largest norm) and every loss
     * (within 1e-4 relative). Returns a one-line summary.
     */
    static String assertMatches(Map<String, Parameter> params, java.util.function.BiFunction<IntTensor, IntTensor, Tensor> lossFn,
                                Expected want, IntTensor[] xy) {
        assertThat(params.keySet()).containsExactlyElementsOf(want.gradNorms().keySet());
        AdamW opt = new AdamW(params, AdamW.Options.defaults(1e-4), AdamW::decaysAll); // torch.optim.AdamW(m.parameters(), lr=1e-4)
        double largest = want.gradNorms().values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        List<Double> losses = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (int step = 0; step < want.losses().size(); step++) {
            try (MemoryScope _ = MemoryScope.open()) {
                Tensor loss = lossFn.apply(xy[0], xy[1]);
                loss.backward();
                losses.add((double) loss.item());
            }
            if (step == 0) {
                for (Map.Entry<String, Double> e : want.gradNorms().entrySet()) {
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
        for (int i = 0; i < losses.size(); i++) {
            worstLoss = Math.max(worstLoss, rel(losses.get(i), want.losses().get(i)));
            assertThat(rel(losses.get(i), want.losses().get(i))).as("loss after %d AdamW steps", i).isLessThan(1e-4);
        }
        return String.format("worst grad-norm relative error %.2e (%s); worst loss relative error %.2e; losses %s vs reference %s",
                worst, worstName, worstLoss, losses, want.losses());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pre", "post"})
    void evalLossMatchesTheReference(String style) throws IOException {
        OptModel model = OptCheckpoint.FORMAT.load(ref(style));
        double want = expected(ref("expected-" + style + ".txt")).losses().get(0);
        double got = Evaluation.meanNextTokenLoss(new HfLanguageModel<>(OptCheckpoint.FORMAT, model), Evaluation.readTokenLines(ref("tokens.txt")), 8);
        System.out.printf("opt parity %s: eval loss %.6f, reference %.6f, relative error %.2e%n", style, got, want, rel(got, want));
        assertThat(rel(got, want)).isLessThan(1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pre", "post"})
    void gradientNormsAndAdamWStepsMatchTheReference(String style) throws IOException {
        OptModel model = OptCheckpoint.FORMAT.load(ref(style));
        assertThat(model.config().doLayerNormBefore()).isEqualTo(style.equals("pre"));
        model.eval(); // the reference has no dropout; eval mode switches ours off, autograd still runs
        String summary = assertMatches(model.namedParameters(), model::loss, expected(ref("expected-" + style + ".txt")),
                batch(ref("tokens.txt")));
        System.out.println("opt parity " + style + ": " + summary);
    }
}
