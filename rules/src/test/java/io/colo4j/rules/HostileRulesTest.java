package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Rules inputs that used to hang: each is refused at once, naming the file or the rule. */
class HostileRulesTest {
    @TempDir
    Path dir;

    @Test
    // a guard against the old hang, not a speed target
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aRegexThatBacktracksCatastrophicallyIsRefusedNamingTheRule() {
        // exponential: the back-reference turns off java.util.regex's loop memo, so every split of the path is
        // tried (32 million character reads, 8 s, for 'body.h.0.attn.qkv' alone before the budget)
        ShardingRules rules = PlanTest.rules("{\"name\": \"greedy\", \"regex\": \"(\\\\w*\\\\.?\\\\w*)+\\\\1x\", \"spec\": \"replicate\"}",
                "replicate");
        assertThatThrownBy(() -> rules.plan(TestModels.tiny(), 2)).isInstanceOf(RulesException.class)
                .hasMessageStartingWith("inline.json:1:")
                .hasMessageContaining("rule 'greedy': regex '(\\w*\\.?\\w*)+\\1x' gave up on module path")
                .hasMessageContaining("backtracks catastrophically");
    }

    @Test
    void anHonestRegexStaysWithinTheBudget() {
        ModulePattern regex = ModulePattern.regex("body\\.h\\.(0|1[0-1])\\.(attn|mlp)\\.[a-z_]+(\\.[a-z_]+)*");
        assertThat(regex.matches("body.h.0.attn.qkv")).isTrue();
        assertThat(regex.matches("body.h.2.attn.qkv")).isFalse();
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifoIsRefusedBeforeItIsOpened() throws Exception {
        Path fifo = dir.resolve("rules.json");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        assertThatThrownBy(() -> ShardingRules.fromJson(fifo)).isInstanceOf(RulesException.class)
                .hasMessage("rules file " + fifo + " is not a regular file (a directory, FIFO or device)");
    }

    @Test
    void nonUtf8IsNamed() throws Exception {
        Path latin1 = dir.resolve("latin1.json");
        Files.write(latin1, new byte[] {'{', '"', (byte) 0xE9, '"', '}'});
        assertThatThrownBy(() -> ShardingRules.fromJson(latin1)).hasMessage("rules file " + latin1 + " is not UTF-8 text");
    }
}
