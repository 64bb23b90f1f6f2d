package io.colo4j.zoo.bert;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.hf.Parity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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
        return Parity.fixture("/bert-ref", sub);
    }

    @Test
    void lossGradientNormsAndAdamWStepsMatchTheReference() throws IOException {
        BertForMaskedLM model = BertCheckpoint.FORMAT.load(ref("model"));
        model.eval();
        Parity.Expected want = Parity.Expected.read(ref("expected.txt"));
        Map<String, IntTensor> b = Parity.namedBatch(ref("batch.txt"), 3);
        Map<String, Parameter> params = model.namedParameters();
        List<String> withGradient = new ArrayList<>(params.keySet());
        withGradient.removeIf(n -> n.startsWith("bert.pooler."));
        assertThat(want.gradNorms().keySet()).containsExactlyElementsOf(withGradient);
        String summary = Parity.assertMatches(params,
                () -> F.crossEntropy(model.forward(b.get("ids"), b.get("types"), b.get("mask")), b.get("labels")),
                want.gradNorms(), want.losses(), 1e-5);
        assertThat(params.get("bert.pooler.dense.weight").grad()).as("the pooler is not in the MLM loss").isNull();
        System.out.println("bert parity: " + summary);
    }
}
