package io.colo4j.zoo.llama;

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
 * Parity with the reference PyTorch Llama (fixtures from tools/make_llama_fixtures.sh): the same weights
 * give the reference's loss, per-parameter gradient norms and AdamW trajectory, with grouped-query
 * attention (2 key/value heads for 4 query heads, rope_theta 1e4, inv_freq buffers in the file) and
 * without (rope_theta 5e5).
 */
class LlamaParityTest {
    static Path ref(String sub) {
        try {
            return Path.of(LlamaParityTest.class.getResource("/llama-ref").toURI()).resolve(sub);
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
    @ValueSource(strings = {"gqa", "mha"})
    void evalLossMatchesTheReference(String style) throws IOException {
        LlamaModel model = LlamaCheckpoint.FORMAT.load(ref(style));
        double want = expected(style).losses().get(0);
        double got = Evaluation.meanNextTokenLoss(new HfLanguageModel<>(LlamaCheckpoint.FORMAT, model), Evaluation.readTokenLines(ref("tokens.txt")), 8);
        System.out.printf("llama parity %s: eval loss %.6f, reference %.6f, relative error %.2e%n", style, got, want, rel(got, want));
        assertThat(rel(got, want)).isLessThan(1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gqa", "mha"})
    void gradientNormsAndAdamWStepsMatchTheReference(String style) throws IOException {
        LlamaModel model = LlamaCheckpoint.FORMAT.load(ref(style));
        assertThat(model.config().numKeyValueHeads()).isEqualTo(style.equals("gqa") ? 2 : 4);
        Expected want = expected(style);
        IntTensor[] xy = batch();
        Map<String, Parameter> params = model.namedParameters();
        assertThat(params.keySet()).containsExactlyElementsOf(want.gradNorms().keySet());
        AdamW opt = new AdamW(params, AdamW.Options.defaults(1e-4), AdamW::decaysAll); // torch.optim.AdamW(m.parameters(), lr=1e-4)
        List<Double> losses = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (int step = 0; step < want.losses().size(); step++) {
            try (MemoryScope _ = MemoryScope.open()) {
                Tensor loss = model.loss(xy[0], xy[1]);
                loss.backward();
                losses.add((double) loss.item());
            }
            if (step == 0) {
                for (Map.Entry<String, Double> e : want.gradNorms().entrySet()) {
                    double r = rel(Math.sqrt(GradClip.sumOfSquares(params.get(e.getKey()).grad())), e.getValue());
                    if (r > worst) {
                        worst = r;
                        worstName = e.getKey();
                    }
                }
            }
            opt.step();
            opt.zeroGrad();
        }
        double worstLoss = 0;
        for (int i = 0; i < losses.size(); i++) {
            worstLoss = Math.max(worstLoss, rel(losses.get(i), want.losses().get(i)));
        }
        System.out.printf("llama parity %s: worst grad-norm relative error %.2e (%s); worst loss relative error %.2e; losses %s vs reference %s%n",
                style, worst, worstName, worstLoss, losses, want.losses());
        assertThat(worst).as("worst grad-norm relative error (%s)", worstName).isLessThan(1e-3);
        for (int i = 0; i < losses.size(); i++) {
            assertThat(rel(losses.get(i), want.losses().get(i))).as("loss after %d AdamW steps", i).isLessThan(1e-4);
        }
    }
}
