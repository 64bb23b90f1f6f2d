package io.colo4j.zoo.t5;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.IntTensor;
import io.colo4j.zoo.hf.Parity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
        return Parity.fixture("/t5-ref", sub);
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
        Map<String, IntTensor> batch = Parity.namedBatch(ref("batch.txt"), 3);
        Parity.Expected want = Parity.Expected.read(ref("expected.txt"));
        // HF's separate cross-attention k and v are one fused key_value here: compare the norm of both
        Map<String, Double> norms = new LinkedHashMap<>();
        want.gradNorms().forEach((name, norm) -> {
            if (name.matches(".*EncDecAttention\\.k\\.weight")) {
                String prefix = name.substring(0, name.length() - ".k.weight".length());
                double v = want.gradNorms().get(prefix + ".v.weight");
                norms.put(prefix + ".key_value.weight", Math.sqrt(norm * norm + v * v));
            } else if (!name.matches(".*EncDecAttention\\.v\\.weight")) {
                norms.put(name, norm);
            }
        });
        assertThat(model.namedParameters().keySet()).containsExactlyElementsOf(norms.keySet());
        System.out.println("t5 parity: " + Parity.assertMatches(model.namedParameters(),
                () -> model.loss(batch.get("input_ids"), batch.get("attention_mask"), batch.get("labels")), norms, want.losses(), 1e-5));
    }
}
