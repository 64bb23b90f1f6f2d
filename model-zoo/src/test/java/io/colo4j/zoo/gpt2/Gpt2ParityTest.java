package io.colo4j.zoo.gpt2;

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
 * Parity with the reference PyTorch GPT-2 (fixtures from tools/make_gpt2_fixtures.sh): the same weights,
 * in both key styles, give the reference's loss, per-parameter gradient norms and AdamW trajectory.
 */
class Gpt2ParityTest {
    static Path ref(String sub) {
        try {
            return Path.of(Gpt2ParityTest.class.getResource("/gpt2-ref").toURI()).resolve(sub);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    record Expected(Map<String, Double> gradNorms, List<Double> losses) {}

    static Expected expected(String style) throws IOException {
        Map<String, Double> norms = new LinkedHashMap<>();
        List<Double> losses = new ArrayList<>();
        for (String line : Files.readAllLines(ref("expected-" + style + ".txt"))) {
            String[] p = line.trim().split("\\s+");
            if (p[0].equals("grad_norm")) {
                norms.put(p[1], Double.parseDouble(p[2]));
            } else if (p[0].equals("step")) {
                losses.add(Double.parseDouble(p[3]));
            }
        }
        return new Expected(norms, losses);
    }

    static IntTensor[] batch() throws IOException {
        List<int[]> seqs = Evaluation.readTokenLines(ref("tokens.txt"));
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

    private static double rel(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(strings = {"prefixed", "hub"})
    void evalLossMatchesTheReference(String style) throws IOException {
        Gpt2Model model = Gpt2Checkpoint.FORMAT.load(ref(style));
        double want = expected(style).losses().get(0);
        double got = Evaluation.meanNextTokenLoss(new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, model), Evaluation.readTokenLines(ref("tokens.txt")), 8);
        System.out.printf("parity %s: loss %.6f, reference %.6f, relative error %.2e%n", style, got, want, rel(got, want));
        assertThat(rel(got, want)).isLessThan(1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"prefixed", "hub"})
    void gradientNormsAndAdamWStepsMatchTheReference(String style) throws IOException {
        Gpt2Model model = Gpt2Checkpoint.FORMAT.load(ref(style));
        model.eval(); // the reference has no dropout; eval mode switches ours off, autograd still runs
        Expected want = expected(style);
        IntTensor[] xy = batch();
        Map<String, Parameter> params = model.namedParameters();
        assertThat(params.keySet()).containsExactlyElementsOf(want.gradNorms().keySet());
        AdamW opt = new AdamW(params, AdamW.Options.defaults(1e-4), AdamW::decaysAll); // torch.optim.AdamW(m.parameters(), lr=1e-4)
        List<Double> losses = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (int step = 0; step < want.losses().size(); step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor loss = model.loss(xy[0], xy[1]);
                loss.backward();
                losses.add((double) loss.item());
            }
            if (step == 0) {
                for (Map.Entry<String, Double> e : want.gradNorms().entrySet()) {
                    double norm = Math.sqrt(GradClip.sumOfSquares(params.get(e.getKey()).grad()));
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
        System.out.printf("parity %s: worst grad-norm relative error %.2e (%s); losses %s vs reference %s%n",
                style, worst, worstName, losses, want.losses());
        assertThat(worst).as("worst grad-norm relative error (%s)", worstName).isLessThan(1e-3);
        for (int i = 0; i < losses.size(); i++) {
            assertThat(rel(losses.get(i), want.losses().get(i))).as("loss after %d AdamW steps", i).isLessThan(1e-4);
        }
    }
}
