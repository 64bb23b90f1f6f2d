package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.ProfiledBackend;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.profile.StepProfile;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.t5.T5Config;
import io.colo4j.zoo.train.LanguageModel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Model FLOPs per family: against counts done by hand on configs small enough to count, against the parameters
 * of the built models (N excludes only lookup tables), and against the FLOPs the GEMMs of a traced step compute.
 */
class ModelFlopsTest {
    /** vocab 10, d 4, 1 layer, 2 heads, window 3 throughout (T5: 5, encoder 2 + decoder 3). */
    @Test
    void gpt2ByHand() {
        ModelFlops f = ModelFlops.of(Gpt2Config.of(10, 8, 4, 1, 2), 3);
        // weights per layer: c_attn 4x12, attn.c_proj 4x4, c_fc 4x16, mlp.c_proj 16x4 = 192 (12 d^2); head 10x4 = 40
        // biases 12 + 4 + 16 + 4 and ln_1, ln_2 2 x 8 = 52; ln_f 8
        assertThat(f.parameters()).isEqualTo(192 + 40 + 52 + 8);
        assertThat(f.gemmFlops()).isEqualTo(6 * (192 + 40) * 3 + 12 * 4 * 3 * 3);
        assertThat(f.perSequence()).isEqualTo(5688);
        // per token: 6N + 12 L d T
        assertThat(f.perToken()).isEqualTo(6 * 292 + 12 * 1 * 4 * 3);
    }

    @Test
    void optByHandWithAndWithoutProjections() {
        ModelFlops f = ModelFlops.of(OptConfig.of(10, 8, 4, 1, 2, 8), 3);
        // weights 4 x 16 + 4x8 + 8x4 = 128, head 10x4; biases 4 x 4 + 8 + 4, two LayerNorms 16, final LayerNorm 8
        assertThat(f.parameters()).isEqualTo(128 + 40 + 28 + 16 + 8);
        assertThat(f.perSequence()).isEqualTo(6 * 220 * 3 + 432);
        // opt-350m's layout: project_in 2x4 and project_out 4x2, head 10x2 on the narrow embeddings, no final LayerNorm
        ModelFlops projected = ModelFlops.of(OptConfig.of(10, 8, 4, 1, 2, 8).withPostLayerNorm(2), 3);
        assertThat(projected.parameters()).isEqualTo(128 + 16 + 20 + 28 + 16);
        assertThat(projected.perSequence()).isEqualTo(6 * 208 * 3 + 432);
    }

    @Test
    void llamaByHandWithGroupedQueriesAndSwiGlu() {
        // 2 heads of 2 sharing 1 key/value head: q 4x4, k and v 4x2 each, o 4x4; gate, up 4x6 and down 6x4
        ModelFlops f = ModelFlops.of(LlamaConfig.of(10, 8, 4, 6, 1, 2, 1), 3);
        long weights = 16 + 8 + 8 + 16 + 3 * 24;
        assertThat(weights).isEqualTo(120);
        // two RMSNorms and the final one (gains only); lm_head 10x4; embed_tokens is only looked up
        assertThat(f.parameters()).isEqualTo(weights + 12 + 40);
        assertThat(f.perSequence()).isEqualTo(6 * 172 * 3 + 12 * 4 * 3 * 3);
    }

    @Test
    void bertByHand() {
        ModelFlops f = ModelFlops.of(BertConfig.of(10, 4, 1, 2, 8, 8, 9), 3);
        // layer weights 128; embeddings LayerNorm 8, layer biases 16 + 8 + 4 and LayerNorms 16; MLM transform 4x4 and
        // decoder 10x4 (tied), their biases 4 and 10, transform LayerNorm 8; positions, token types and pooler not counted
        assertThat(f.parameters()).isEqualTo(128 + 8 + 44 + 56 + 22);
        assertThat(f.perSequence()).isEqualTo(6 * 258 * 3 + 432);
    }

    @Test
    void t5ByHandChargesEachStackItsHalfOfTheWindow() {
        ModelFlops f = ModelFlops.of(T5Config.of(10, 4, 2, 8, 1, 2), 5);
        long encoder = 6 * (64 + 64) * 2 + 6 * (8 + 4) * 2; // q, k, v, o 4x4 and wi, wo 4x8; two norms + final, 2 tokens
        long decoder = 6 * (64 + 32 + 64) * 3 // self q, k, v, o, cross q, o, wi, wo on the decoder's 3 tokens
                + 6 * 32 * 2 // cross key_value on the encoder's 2
                + 6 * (12 + 4) * 3 // three norms + final
                + 6 * 40 * 3; // the tied head
        long attention = 12 * 4 * (2 * 2 + 3 * 3 + 3 * 2); // encoder self, decoder self, cross
        assertThat(f.perSequence()).isEqualTo(encoder + decoder + attention).isEqualTo(6864);
        assertThat(f.parameters()).isEqualTo(128 + 12 + 160 + 32 + 16 + 40);
        assertThat(f.perToken()).isEqualTo(6864 / 5.0);
    }

    @Test
    void gpt2SmallIsTheIssuesFigure() {
        ModelFlops f = ModelFlops.of(Gpt2Config.NAMED.get("small"), 128);
        assertThat(f.parameters()).isEqualTo(124_439_808L - 1024 * 768); // nanoGPT's 123.65M: all but wpe
        assertThat(f.perToken()).isEqualTo(6.0 * 123_653_376L + 12 * 12 * 768 * 128);
        // ~0.39 TFLOP per step of 4 x 128 tokens, as the issue counts it
        assertThat(f.perSequence() * 4 / 1e12).isBetween(0.38, 0.40);
    }

    /** The lookup-only tables each family's N leaves out (and BERT's pooler, which the MLM loss never reaches). */
    private static final Map<String, List<String>> LOOKUPS = Map.of(
            "gpt2", List.of("wpe.weight"),
            "opt", List.of("embed_positions.weight"),
            "llama", List.of("embed_tokens.weight"),
            "bert", List.of("position_embeddings.weight", "token_type_embeddings.weight", "pooler.dense.weight", "pooler.dense.bias"),
            "t5", List.of("relative_attention_bias.weight"));

    @Test
    void nIsEveryParameterOfEveryNamedConfigButItsLookupTables() {
        for (ModelZoo.Family family : ModelZoo.families()) {
            assertThat(LOOKUPS).as("a new family needs its lookup tables listed here").containsKey(family.name());
            for (String name : family.configs()) {
                Module lazy = family.buildLazily(name);
                long n = lazy.namedParameters().entrySet().stream()
                        .filter(e -> LOOKUPS.get(family.name()).stream().noneMatch(e.getKey()::endsWith))
                        .mapToLong(e -> Arrays.stream(e.getValue().fullShape()).asLongStream().reduce(1, (a, b) -> a * b)).sum();
                assertThat(ModelFlops.of(family.requireHf().config(name), 16).parameters()).as(family.name() + " " + name).isEqualTo(n);
            }
        }
    }

    @Test
    void theGemmsOfATracedStepComputeExactlyTheFormulasWeightAndAttentionFlops() {
        int batch = 2;
        int seq = 9; // odd: T5's encoder and decoder halves differ
        for (ModelZoo.Family family : ModelZoo.families()) {
            HfFamilyOps hf = family.requireHf();
            HfConfig cfg = hf.withDropout(hf.config("tiny"), 0f);
            LanguageModel lm = hf.languageModel(hf.build(cfg, 3));
            int[] ids = new int[batch * seq];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7 + 3) % cfg.vocabSize();
            }
            IntTensor x = IntTensor.of(ids, batch, seq);
            StepProfile.enable(true);
            Map<String, StepProfile.Totals> traced;
            try (var backend = Backends.use(ProfiledBackend.wrap(Backends.current())); MemoryScope scope = MemoryScope.open()) {
                StepProfile.reset();
                int step = StepProfile.root(StepProfile.STEP);
                lm.loss(x, x, 0).backward();
                StepProfile.exit(step);
                traced = StepProfile.snapshot();
            } finally {
                StepProfile.enable(false);
                lm.module().zeroGrad();
            }
            // the products run as GEMMs or inside the fused attention kernel (its work: the products it stands for)
            long products = traced.get("gemm").work() + (traced.containsKey("attention") ? traced.get("attention").work() : 0);
            assertThat(products).as(family.name()).isEqualTo(batch * ModelFlops.of(cfg, seq).gemmFlops());
        }
    }

    @Test
    void aConfigWithoutAFormulaIsNamed() {
        HfConfig unknown = new HfConfig() {
            @Override
            public int vocabSize() {
                return 1;
            }

            @Override
            public io.colo4j.zoo.hf.HfConfigFormat<?> format() {
                return Gpt2Config.FORMAT;
            }
        };
        assertThatThrownBy(() -> ModelFlops.of(unknown, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no model FLOPs formula").hasMessageContaining("ModelFlops.of");
    }
}
