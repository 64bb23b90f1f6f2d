package io.colo4j.zoo.bert;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Parity with a plain-PyTorch transcription of HF's BertForMaskedLM (fixtures from tools/torch_bert.py):
 * the same HF model folder (with the tied decoder and the position_ids buffer HF's older exports carry)
 * and batch (token types, a padding mask, masked tokens) give the reference's MLM loss, per-parameter
 * gradient norms and AdamW trajectory.
 */
class BertParityTest {
    static Path ref(String sub) {
        try {
            return Path.of(BertParityTest.class.getResource("/bert-ref").toURI()).resolve(sub);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, IntTensor> batch() throws IOException {
        Map<String, IntTensor> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ref("batch.txt"))) {
            String[] p = line.trim().split("\\s+");
            int[] v = Arrays.stream(p, 1, p.length).mapToInt(Integer::parseInt).toArray();
            out.put(p[0], IntTensor.of(v, 3, v.length / 3));
        }
        return out;
    }

    private static double rel(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
    }

    @Test
    void lossGradientNormsAndAdamWStepsMatchTheReference() throws IOException {
        BertForMaskedLM model = BertCheckpoint.FORMAT.load(ref("model"));
        model.eval();
        Map<String, Double> norms = new LinkedHashMap<>();
        List<Double> losses = new ArrayList<>();
        for (String line : Files.readAllLines(ref("expected.txt"))) {
            String[] p = line.trim().split("\\s+");
            if (p[0].equals("grad_norm")) {
                norms.put(p[1], Double.parseDouble(p[2]));
            } else if (p[0].equals("step")) {
                losses.add(Double.parseDouble(p[3]));
            }
        }
        Map<String, IntTensor> b = batch();
        Map<String, Parameter> params = model.namedParameters();
        List<String> withGradient = new ArrayList<>(params.keySet());
        withGradient.removeIf(n -> n.startsWith("bert.pooler."));
        assertThat(norms.keySet()).containsExactlyElementsOf(withGradient);
        AdamW opt = new AdamW(params, AdamW.Options.defaults(1e-4), AdamW::decaysAll);
        List<Double> got = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (int step = 0; step < losses.size(); step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor loss = F.crossEntropy(model.forward(b.get("ids"), b.get("types"), b.get("mask")), b.get("labels"));
                loss.backward();
                got.add((double) loss.item());
            }
            if (step == 0) {
                double largest = norms.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
                for (Map.Entry<String, Double> e : norms.entrySet()) {
                    double norm = Math.sqrt(GradClip.sumOfSquares(params.get(e.getKey()).grad()));
                    if (e.getKey().endsWith("attention.self.key.bias")) {
                        // zero in exact arithmetic (softmax cancels a bias added to every key): rounding noise on both sides
                        assertThat(Math.abs(norm - e.getValue())).as(e.getKey()).isLessThan(1e-7 * largest);
                        continue;
                    }
                    double r = rel(norm, e.getValue());
                    if (r > worst) {
                        worst = r;
                        worstName = e.getKey();
                    }
                }
                assertThat(params.get("bert.pooler.dense.weight").grad()).as("the pooler is not in the MLM loss").isNull();
            }
            opt.step();
            opt.zeroGrad();
        }
        System.out.printf("bert parity: worst grad-norm relative error %.2e (%s); losses %s vs reference %s%n", worst, worstName, got, losses);
        assertThat(worst).as("worst grad-norm relative error (%s)", worstName).isLessThan(1e-3);
        for (int i = 0; i < got.size(); i++) {
            assertThat(rel(got.get(i), losses.get(i))).as("loss after %d AdamW steps", i).isLessThan(1e-5);
        }
    }
}
