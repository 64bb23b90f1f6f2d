package io.colo4j.zoo.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.optim.AdamW;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zoo's Llama family as the trainer drives it: seeded attention dropout per step, learning, save and load. */
class LlamaLanguageModelTest {
    static IntTensor ids(int vocab, int shift) {
        int[] v = new int[2 * 12];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 7 + shift * 5 + 3) % vocab;
        }
        return IntTensor.of(v, 2, 12);
    }

    @Test
    void dropoutMasksFollowTheStepAndTrainingLowersTheLoss() {
        LlamaConfig config = LlamaConfig.FORMAT.with(LlamaModelTest.micro(), "attention_dropout", 0.1f);
        LanguageModel lm = ModelZoo.family("llama").languageModel(new LlamaModel(config, 3));
        IntTensor x = ids(config.vocabSize(), 0);
        IntTensor y = ids(config.vocabSize(), 1);
        float a = lm.loss(x, y, 7).item();
        // the same step draws the same masks (up to the kernels' JIT-dependent rounding), another step others
        assertThat(lm.loss(x, y, 7).item()).isCloseTo(a, within(1e-5f * a));
        assertThat(Math.abs(lm.loss(x, y, 8).item() - a)).isGreaterThan(1e-4f * a);
        lm.module().eval();
        float noDropout = lm.loss(x, y, 7).item();
        assertThat(lm.loss(x, y, 8).item()).isCloseTo(noDropout, within(1e-5f * noDropout));
        lm.module().train(true);
        AdamW opt = new AdamW(lm.module().namedParameters(), AdamW.Options.defaults(3e-3));
        float first = 0;
        float last = 0;
        for (int step = 0; step < 30; step++) {
            try (MemoryScope _ = MemoryScope.open()) {
                Tensor loss = lm.loss(x, y, step);
                loss.backward();
                last = loss.item();
                first = step == 0 ? last : first;
            }
            opt.step();
            opt.zeroGrad();
        }
        assertThat(last).isLessThan(first * 0.8f);
    }

    @Test
    void savesAndLoadsThroughTheAdapter(@TempDir Path dir) throws IOException {
        ModelZoo.Family family = ModelZoo.family("llama");
        LanguageModel a = family.languageModel(family.build("tiny", 1));
        LanguageModel b = family.languageModel(family.build("tiny", 2));
        assertThat(a.vocabSize()).isEqualTo(256);
        assertThat(a.maxSequenceLength()).isEqualTo(128);
        a.save(dir.resolve("ckpt"));
        b.load(dir.resolve("ckpt"));
        a.module().namedParameters().forEach((n, p) ->
                assertThat(b.module().namedParameters().get(n).toFloatArray()).as(n).containsExactly(p.toFloatArray()));
        assertThat(LlamaConfig.FORMAT.parse(a.configJson())).isEqualTo(LlamaConfig.tiny());
        LanguageModel other = family.languageModel(new LlamaModel(LlamaModelTest.micro(), 1));
        assertThatThrownBy(() -> other.load(dir.resolve("ckpt"))).hasMessageContaining("differs from the model's");
    }
}
