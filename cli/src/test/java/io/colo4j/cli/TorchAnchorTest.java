package io.colo4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.t5.T5Config;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The anchor's sizes come from the config record being benchmarked, never from a table of names. */
class TorchAnchorTest {
    private static String args(TorchAnchor.Reference r) {
        return String.join(" ", r.sizeArgs());
    }

    @Test
    void gpt2SizesAreTheRecordsFields() {
        TorchAnchor.Reference r = TorchAnchor.reference(Gpt2Config.NAMED.get("medium"));
        assertThat(r.script()).isEqualTo("shared/reference/torch_gpt2.py");
        assertThat(args(r)).isEqualTo("--vocab 50257 --pos 1024 --embd 1024 --layers 24 --heads 16");
        // any record, not only a named one
        assertThat(args(TorchAnchor.reference(Gpt2Config.of(300, 96, 48, 3, 6)))).isEqualTo("--vocab 300 --pos 96 --embd 48 --layers 3 --heads 6");
    }

    @Test
    void optAndLlamaGoToTheirScriptsWithTheirLayouts() {
        TorchAnchor.Reference opt = TorchAnchor.reference(OptConfig.NAMED.get("opt-350m"));
        assertThat(opt.script()).isEqualTo("tools/torch_opt.py");
        assertThat(args(opt)).isEqualTo("--vocab 50272 --pos 2048 --hidden 1024 --layers 24 --heads 16 --ffn 4096 --proj 512 --pad 1 --post-ln");
        TorchAnchor.Reference llama = TorchAnchor.reference(LlamaConfig.NAMED.get("llama-3-8b"));
        assertThat(llama.script()).isEqualTo("tools/torch_llama.py");
        assertThat(args(llama)).isEqualTo("--vocab 128256 --pos 8192 --hidden 4096 --inter 14336 --layers 32 --heads 32 --kv-heads 8"
                + " --rope-theta 500000.0 --eps 1.0E-5");
    }

    @Test
    void familiesWithoutATimingScriptSaySo() {
        for (var config : List.of(BertConfig.tiny(), T5Config.tiny())) {
            TorchAnchor.Reference r = TorchAnchor.reference(config);
            assertThat(r.script()).isNull();
            assertThat(r.missing()).contains("no PyTorch timing script for " + config.format().modelType());
        }
    }
}
