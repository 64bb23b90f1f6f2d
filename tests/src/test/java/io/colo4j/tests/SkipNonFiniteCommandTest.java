package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfFamilyOps;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --skip-nonfinite} from the command line, at tp 2 x dp 2: a model whose final norm holds a NaN gives a
 * NaN loss at every step, so each step is named as skipped and the tenth in a row stops the run; without the flag
 * the first one does.
 */
class SkipNonFiniteCommandTest {
    /** GPT-2 tiny saved with a NaN in {@code transformer.ln_f.weight}: every position's logits, and so the loss, are NaN. */
    private static Path poisonedModel(Path dir) throws Exception {
        HfFamilyOps hf = ModelZoo.family("gpt2").requireHf();
        Module m = hf.build(hf.config("tiny"), 1L);
        ((Tensor) m.namedParameters().get("transformer.ln_f.weight")).set(Float.NaN, 0);
        Path model = dir.resolve("nan");
        hf.languageModel(m).save(model);
        return model;
    }

    @Test
    void everyStepIsSkippedUntilTenInARowStopTheRun(@TempDir Path dir) throws Exception {
        Path model = poisonedModel(dir);
        String[] common = {"train", "--model", "gpt2", "--init", model.toString(), "--allow-nonfinite", "--steps", "12", "--batch", "4",
            "--seq", "16", "--tp", "2", "--dp", "2"};
        String[] skipping = java.util.Arrays.copyOf(common, common.length + 1);
        skipping[common.length] = "--skip-nonfinite";
        CliRun skipped = CliRun.of(skipping);
        assertThat(skipped.exit()).as(skipped.out() + skipped.err()).isEqualTo(1);
        assertThat(skipped.out()).contains("step 1/12 skipped: the loss is NaN; no optimizer update, gradients zeroed"
                        + " (--skip-nonfinite: 1 skipped so far, 1 in a row)")
                .contains("step 9/12 skipped: the loss is NaN").doesNotContain("step 10/12 skipped");
        assertThat(skipped.err()).contains("step 10/12: the loss is NaN")
                .contains("10 steps in a row (1..10) were not finite, so --skip-nonfinite stops here");

        CliRun stopped = CliRun.of(common);
        assertThat(stopped.exit()).isEqualTo(1);
        assertThat(stopped.out()).doesNotContain("skipped:");
        assertThat(stopped.err()).contains("step 1/12: the loss is NaN");
    }
}
