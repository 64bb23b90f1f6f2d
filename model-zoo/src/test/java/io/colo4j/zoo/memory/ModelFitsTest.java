package io.colo4j.zoo.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.ShardingRules;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelFitsTest {
    @TempDir
    Path dir;

    /** The extrapolation from one and two layers per stack is exact: the fully planned model's bytes, at tp 1, 2, 4. */
    @ParameterizedTest(name = "{0} tp={1} dp={2} zero={3}")
    @CsvSource({"gpt2, 1, 1, 0", "gpt2, 2, 1, 0", "gpt2, 4, 2, 1", "t5, 2, 1, 0", "t5, 4, 2, 2", "llama, 2, 1, 0", "opt, 4, 1, 0"})
    void bytesPerRankAreThePlannedModels(String family, int tp, int dp, int zero) throws IOException {
        ModelZoo.Family f = ModelZoo.family(family);
        HfFamilyOps hf = f.requireHf();
        HfConfig config = hf.config("tiny");
        Path json = dir.resolve("config.json");
        // more layers than tiny has, and for T5 a decoder deeper than the encoder
        String text = config.toJson().replaceFirst("\"(n_layer|num_hidden_layers|num_layers)\" : \\d+", "\"$1\" : 5");
        text = text.replaceFirst("\"num_decoder_layers\" : \\d+", "\"num_decoder_layers\" : 7");
        Files.writeString(json, text);
        config = hf.readConfig(dir);
        ShardingRules rules = f.rules();
        Module full = ModelFits.buildLazily(hf, config);
        long want = MemoryPerRank.of(rules.plan(full, tp), dp, zero, p -> true).totalBytes();
        assertThat(ModelFits.bytesPerRank(hf, config, rules, tp, dp, zero, ModelFits.Use.TRAIN, "test")).isEqualTo(want);
        assertThat(ModelFits.require(hf, config, rules, tp, dp, zero, tp * dp, ModelFits.Use.TRAIN, "test")).isEqualTo(want);
    }

    @Test
    void widthsThatOverflowAreRefusedNamingTheField() throws IOException {
        HfFamilyOps hf = ModelZoo.family("gpt2").requireHf();
        Path json = dir.resolve("config.json");
        Files.writeString(json, hf.config("small").toJson().replaceFirst("\"n_embd\" : \\d+", "\"n_embd\" : 2147483520")
                .replaceFirst("\"n_head\" : \\d+", "\"n_head\" : 128"));
        assertThatThrownBy(() -> hf.readConfig(dir)).hasMessage(json + ": gpt2 config: n_embd 2147483520 is too large: the MLP's "
                + "4 * n_embd overflows a dimension (2^31-1)");
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({"n_layer, 200000", "n_layer, 2147483647", "vocab_size, 1000000000", "n_positions, 2147483647",
        "n_embd, 536870784"})
    // these used to take minutes of GC or die of OutOfMemoryError
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void absurdSizesAreRefusedBeforeAnythingIsAllocated(String field, long value) throws IOException {
        HfFamilyOps hf = ModelZoo.family("gpt2").requireHf();
        HfConfig small = hf.config("small");
        Path json = dir.resolve("config.json");
        Files.writeString(json, small.toJson().replaceFirst("\"" + field + "\" : \\d+", "\"" + field + "\" : " + value)
                .replaceFirst("\"n_head\" : \\d+", "\"n_head\" : " + (field.equals("n_embd") ? 128 : 12)));
        HfConfig config = hf.readConfig(dir);
        assertThatThrownBy(() -> ModelFits.require(hf, config, ModelZoo.family("gpt2").rules(), 2, 1, 0, 2, ModelFits.Use.TRAIN,
                json.toString()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(json + ": the model (gpt2 ")
                .hasMessageContaining(field + " " + value)
                .hasMessageContaining("per rank for parameters, gradients and AdamW moments at tp=2 dp=1, 2 ranks in this process")
                .hasMessageContaining("of physical memory")
                .hasMessageNotContaining("\n");
    }
}
