package io.colo4j.zoo.hf;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.Evaluation;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Parity of every causal LM with its reference PyTorch implementation (fixtures from
 * tools/make_{gpt2,opt,llama}_fixtures.sh): the same HF model folder gives the reference's eval loss,
 * per-parameter gradient norms and AdamW trajectory. The folders cover each family's key styles and
 * shapes: GPT-2 with transformer.-prefixed and hub keys; OPT pre-LN saved with OPTForCausalLM keys (and
 * a tied lm_head.weight) and post-LN, projected, saved with OPTModel keys; Llama with grouped-query
 * attention (2 key/value heads for 4 query heads, rope_theta 1e4, inv_freq buffers in the file) and
 * without (rope_theta 5e5). Each row also names one config field the folder must have been read with.
 */
class CausalLmParityTest {
    private static final String ROWS = """
            gpt2,  prefixed, n_layer,              2
            gpt2,  hub,      n_layer,              2
            opt,   pre,      do_layer_norm_before, true
            opt,   post,     do_layer_norm_before, false
            llama, gqa,      num_key_value_heads,  2
            llama, mha,      num_key_value_heads,  4
            """;

    private static Path ref(String family, String sub) {
        return Parity.fixture("/" + family + "-ref", sub);
    }

    /** The folder's model, built from its config.json and weights through the family, in eval mode (the references have no dropout). */
    private static Module load(String family, String style, String field, String value) throws IOException {
        HfFamilyOps hf = ModelZoo.family(family).requireHf();
        HfConfig config = hf.readConfig(ref(family, style));
        assertThat(config.format().fieldsOf(config).get(field).asText()).as(field).isEqualTo(value);
        Module model = hf.build(config, 0L);
        hf.loadWeights(model, ref(family, style));
        model.eval();
        return model;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(textBlock = ROWS)
    void evalLossMatchesTheReference(String family, String style, String field, String value) throws IOException {
        LanguageModel lm = ModelZoo.family(family).languageModel(load(family, style, field, value));
        double want = Parity.Expected.read(ref(family, "expected-" + style + ".txt")).losses().get(0);
        double got = Evaluation.meanNextTokenLoss(lm, Evaluation.readTokenLines(ref(family, "tokens.txt")), 8);
        System.out.printf("%s parity %s: eval loss %.6f, reference %.6f, relative error %.2e%n", family, style, got, want,
                Parity.rel(got, want));
        assertThat(Parity.rel(got, want)).isLessThan(1e-4);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(textBlock = ROWS)
    void gradientNormsAndAdamWStepsMatchTheReference(String family, String style, String field, String value) throws IOException {
        HfModel<?> model = (HfModel<?>) load(family, style, field, value);
        Parity.Expected want = Parity.Expected.read(ref(family, "expected-" + style + ".txt"));
        assertThat(model.namedParameters().keySet()).containsExactlyElementsOf(want.gradNorms().keySet());
        IntTensor[] xy = Parity.nextTokenBatch(ref(family, "tokens.txt"));
        System.out.println(family + " parity " + style + ": " + Parity.assertMatches(model.namedParameters(),
                () -> model.loss(xy[0], xy[1]), want.gradNorms(), want.losses(), 1e-4));
    }
}
