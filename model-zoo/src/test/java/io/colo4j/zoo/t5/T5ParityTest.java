package io.colo4j.zoo.t5;

import static org.assertj.core.api.Assertions.assertThat;

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
 * Parity with a plain-PyTorch transcription of HF's T5ForConditionalGeneration (fixtures from
 * tools/torch_t5.py): HF's relative position buckets, and, loaded from the same HF folder (separate
 * cross-attention k and v, tied copies of shared), the reference's loss, per-parameter gradient norms
 * (the fused key_value against the norm of HF's k and v together) and AdamW trajectory.
 */
class T5ParityTest {
    static Path ref(String sub) {
        try {
            return Path.of(T5ParityTest.class.getResource("/t5-ref").toURI()).resolve(sub);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double rel(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
    }

    @Test
    void relativePositionBucketsAreHfs() throws IOException {
        int n = 0;
        for (String line : Files.readAllLines(ref("buckets.txt"))) {
            int[] v = Arrays.stream(line.trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
            assertThat(T5Attention.relativePositionBucket(v[3], v[0] == 1, v[1], v[2])).as(line).isEqualTo(v[4]);
            n++;
        }
        assertThat(n).isEqualTo(2 * 3 * 601);
    }

    @Test
    void lossGradientNormsAndAdamWStepsMatchTheReference() throws IOException {
        T5ForConditionalGeneration model = T5Checkpoint.FORMAT.load(ref("model"));
        model.eval();
        Map<String, IntTensor> batch = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ref("batch.txt"))) {
            String[] p = line.trim().split("\\s+");
            int[] v = Arrays.stream(p, 1, p.length).mapToInt(Integer::parseInt).toArray();
            batch.put(p[0], IntTensor.of(v, 3, v.length / 3));
        }
        Map<String, Double> want = new LinkedHashMap<>();
        List<Double> losses = new ArrayList<>();
        for (String line : Files.readAllLines(ref("expected.txt"))) {
            String[] p = line.trim().split("\\s+");
            if (p[0].equals("grad_norm")) {
                want.put(p[1], Double.parseDouble(p[2]));
            } else if (p[0].equals("step")) {
                losses.add(Double.parseDouble(p[3]));
            }
        }
        // HF's separate cross-attention k and v are one fused key_value here: compare the norm of both
        Map<String, Double> norms = new LinkedHashMap<>();
        want.forEach((name, norm) -> {
            if (name.matches(".*EncDecAttention\\.k\\.weight")) {
                String prefix = name.substring(0, name.length() - ".k.weight".length());
                double v = want.get(prefix + ".v.weight");
                norms.put(prefix + ".key_value.weight", Math.sqrt(norm * norm + v * v));
            } else if (!name.matches(".*EncDecAttention\\.v\\.weight")) {
                norms.put(name, norm);
            }
        });
        Map<String, Parameter> params = model.namedParameters();
        assertThat(params.keySet()).containsExactlyElementsOf(norms.keySet());
        AdamW opt = new AdamW(params, AdamW.Options.defaults(1e-4), AdamW::decaysAll);
        List<Double> got = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (int step = 0; step < losses.size(); step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor loss = model.loss(batch.get("input_ids"), batch.get("attention_mask"), batch.get("labels"));
                loss.backward();
                got.add((double) loss.item());
            }
            if (step == 0) {
                for (Map.Entry<String, Double> e : norms.entrySet()) {
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
        System.out.printf("t5 parity: worst grad-norm relative error %.2e (%s); losses %s vs reference %s%n", worst, worstName, got, losses);
        assertThat(worst).as("worst grad-norm relative error (%s)", worstName).isLessThan(1e-3);
        for (int i = 0; i < got.size(); i++) {
            assertThat(rel(got.get(i), losses.get(i))).as("loss after %d AdamW steps", i).isLessThan(1e-5);
        }
    }
}
