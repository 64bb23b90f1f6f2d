package io.colo4j.zoo.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.optim.AdamW;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2ModelTest;
import io.colo4j.zoo.llama.LlamaModelTest;
import io.colo4j.zoo.opt.OptModelTest;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every causal LM of the zoo as the trainer drives it: seeded dropout per step, learning, save and load. */
class CausalLmAdapterTest {
    /** Family, a small config of it, and its tiny config's sequence bound. */
    static Stream<Arguments> families() {
        return Stream.of(Arguments.of("gpt2", Gpt2ModelTest.micro(), 64), Arguments.of("opt", OptModelTest.micro(), 64),
                Arguments.of("llama", LlamaModelTest.micro(), 128));
    }

    static IntTensor ids(int vocab, int shift) {
        int[] v = new int[2 * 12];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 7 + shift * 5 + 3) % vocab;
        }
        return IntTensor.of(v, 2, 12);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void dropoutMasksFollowTheStepAndTrainingLowersTheLoss(String name, HfConfig micro, int ignored) {
        HfFamilyOps hf = ModelZoo.family(name).requireHf();
        HfConfig config = hf.withDropout(micro, 0.1f);
        LanguageModel lm = hf.languageModel(hf.build(config, 3));
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void savesAndLoadsThroughTheAdapter(String name, HfConfig micro, int tinyPositions, @TempDir Path dir) throws IOException {
        ModelZoo.Family family = ModelZoo.family(name);
        LanguageModel a = family.languageModel(family.build("tiny", 1));
        LanguageModel b = family.languageModel(family.build("tiny", 2));
        assertThat(a.vocabSize()).isEqualTo(256);
        assertThat(a.maxSequenceLength()).isEqualTo(tinyPositions);
        a.save(dir.resolve("ckpt"));
        b.load(dir.resolve("ckpt"));
        a.module().namedParameters().forEach((n, p) ->
                assertThat(b.module().namedParameters().get(n).toFloatArray()).as(n).containsExactly(p.toFloatArray()));
        assertThat(micro.format().parse(a.configJson())).isEqualTo(family.requireHf().config("tiny"));
        LanguageModel other = family.languageModel(family.requireHf().build(micro, 1));
        assertThatThrownBy(() -> other.load(dir.resolve("ckpt"))).hasMessageContaining("differs from the model's");
    }
}
