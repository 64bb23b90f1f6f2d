package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zoo's models declare what a rule cannot be right about (their norms, their fused q | k | v and k | v), and
 * {@code coverage} reports a rule against it as an error, strict or not, naming the rule's file and line, the
 * parameter and why; the bundled rules, and ColossalAI's tutorial layout (c_attn cut as one block), still pass.
 */
class StructureRulesCoverageTest {
    private static final Path T5 = Path.of("..", "model-zoo", "src", "main", "resources", "io", "colo4j", "zoo", "t5", "t5.rules.json");

    @Test
    void aColumnSplitLayerNormAndAStride2QkvAreCoverageErrors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("wrong.rules.json");
        String bundled = Files.readString(RulesOptionTest.BUNDLED_GPT2);
        String wrong = bundled.replace("\"stride\": 3,", "\"stride\": 2,")
                .replace("\"match\": \"transformer.**.ln_*\",\n      \"spec\": \"replicate\"", "\"match\": \"transformer.**.ln_*\",\n      \"spec\": \"column\"");
        assertThat(wrong).doesNotContain("\"stride\": 3").contains("\"spec\": \"column\"\n    }\n  ]");
        Files.writeString(file, wrong);
        CoverageCommandTest.Run lenient = CoverageCommandTest.run("coverage", "--model", "gpt2", "--rules", file.toString(), "--tp", "2");
        CoverageCommandTest.Run strict = CoverageCommandTest.run("coverage", "--model", "gpt2", "--rules", file.toString(), "--tp", "2", "--strict");
        for (CoverageCommandTest.Run r : java.util.List.of(lenient, strict)) {
            assertThat(r.exit()).as(r.out()).isEqualTo(1);
            assertThat(r.out()).contains("error: rule 'attn.qkv' (" + file + ":7:")
                    .contains("cannot apply column(stride=2, outputReplicate=false) to transformer.h.0.attn.c_attn.weight [64, 192] at tp=2: the model declares"
                            + " dim 1 as 3 fused blocks (e.g. q | k | v), so a split of it needs stride 3")
                    .contains("to transformer.h.0.attn.c_attn.bias [192] at tp=2")
                    .contains("error: rule 'layernorms' (" + file + ":")
                    .contains("cannot apply column to transformer.h.0.ln_1.weight [64] at tp=2: LayerNorm is a normalisation layer")
                    .contains("give them 'replicate'");
        }
    }

    @Test
    void t5sFusedKeyValueWantsStride2(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t5-stride4.rules.json");
        Files.writeString(file, Files.readString(T5).replace("\"stride\": 2,", "\"stride\": 4,"));
        CoverageCommandTest.Run r = CoverageCommandTest.run("coverage", "--model", "t5", "--rules", file.toString(), "--tp", "1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("EncDecAttention.key_value.weight").contains("the model declares dim 0 as 2 fused blocks")
                .contains("not 4");
    }

    /** The bundled rules are held to this by RuleCoverageTest; ColossalAI's tutorial cuts c_attn without a stride. */
    @Test
    void theTutorialRulesPass() {
        for (String tp : new String[] {"1", "2", "4"}) {
            CoverageCommandTest.Run tutorial = CoverageCommandTest.run("coverage", "--model", "gpt2", "--rules",
                    RulesOptionTest.TUTORIAL.toString(), "--tp", tp);
            assertThat(tutorial.exit()).as(tutorial.out() + tutorial.err()).isZero();
        }
    }
}
