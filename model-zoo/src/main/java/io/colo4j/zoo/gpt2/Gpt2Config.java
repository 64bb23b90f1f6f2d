package io.colo4j.zoo.gpt2;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.NullNode;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfConfigFormat.Derived;
import io.colo4j.zoo.hf.HfConfigFormat.Fixed;
import io.colo4j.zoo.hf.HfConfigFormat;
import io.colo4j.zoo.hf.NamedConfigs;
import java.util.List;

/**
 * GPT-2's hyper-parameters, named as in HF's GPT2Config ({@code config.json}): vocab_size, n_positions
 * (n_ctx in older files), n_embd, n_layer, n_head, layer_norm_epsilon, embd/attn/resid_pdrop,
 * initializer_range. The MLP is always 4 * n_embd wide and the activation is gelu_new (tanh), as in
 * every published GPT-2.
 */
public record Gpt2Config(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, float layerNormEpsilon,
                         float embdPdrop, float attnPdrop, float residPdrop, float initializerRange) implements HfConfig {
    /** The dropout probabilities {@code --dropout} sets. */
    public static final List<String> DROPOUTS = List.of("embd_pdrop", "attn_pdrop", "resid_pdrop");

    public static final HfConfigFormat<Gpt2Config> FORMAT = new HfConfigFormat<>(Gpt2Config.class, "gpt2", "n_positions", of(50257, 1024, 768, 12, 12),
            List.of(new Derived("n_positions", (file, merged) -> file.get("n_ctx"))),
            List.of(Fixed.informative("architectures", List.of("GPT2LMHeadModel")),
                    new Fixed("n_inner", NullNode.getInstance(),
                            (v, c) -> v.isIntegralNumber() && v.asInt() == 4 * c.path("n_embd").asInt(), "only 4 * n_embd"),
                    Fixed.written("activation_function", "gelu_new", "gelu_pytorch_tanh"),
                    Fixed.checked("scale_attn_by_inverse_layer_idx", false, "non-default attention scaling"),
                    Fixed.checked("scale_attn_weights", true, "non-default attention scaling"),
                    Fixed.checked("reorder_and_upcast_attn", false, "non-default attention scaling"),
                    Fixed.written("tie_word_embeddings", true)));

    public Gpt2Config {
        if (vocabSize < 1 || nPositions < 1 || nEmbd < 1 || nLayer < 0 || nHead < 1) {
            throw new IllegalArgumentException("gpt2 config: sizes must be positive (vocab " + vocabSize + ", positions "
                    + nPositions + ", embd " + nEmbd + ", layers " + nLayer + ", heads " + nHead + ")");
        }
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("gpt2 config: n_embd " + nEmbd + " is not divisible by n_head " + nHead);
        }
        if (nEmbd > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("gpt2 config: n_embd " + nEmbd + " is too large: the MLP's 4 * n_embd overflows a dimension (2^31-1)");
        }
        if (!(layerNormEpsilon > 0) || !(initializerRange >= 0)) {
            throw new IllegalArgumentException("gpt2 config: layer_norm_epsilon must be > 0 and initializer_range >= 0");
        }
        for (float p : new float[] {embdPdrop, attnPdrop, residPdrop}) {
            if (!(p >= 0f && p < 1f)) {
                throw new IllegalArgumentException("gpt2 config: dropout probabilities must lie in [0, 1), got " + p);
            }
        }
    }

    /** A GPT-2 with HF's defaults (eps 1e-5, dropout 0.1, init 0.02) and the given sizes. */
    public static Gpt2Config of(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead) {
        return new Gpt2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, 1e-5f, 0.1f, 0.1f, 0.1f, 0.02f);
    }

    /** For tests and smoke runs: byte vocabulary, 2 layers, 64 wide, 4 heads, 64 positions, no dropout. */
    public static Gpt2Config tiny() {
        return of(256, 64, 64, 2, 4).withDropout(0f);
    }

    /** HF {@code gpt2} (124M). */
    public static Gpt2Config small() {
        return of(50257, 1024, 768, 12, 12);
    }

    /** Written beside n_positions, as HF's older files have it. */
    @JsonProperty("n_ctx")
    /** tiny, mini, small, medium, large or xl (also gpt2, gpt2-medium, gpt2-large, gpt2-xl). */
    public static final NamedConfigs<Gpt2Config> NAMED = NamedConfigs.<Gpt2Config>of("gpt2")
            .add("tiny", tiny())
            .add("mini", of(256, 128, 128, 4, 4).withDropout(0f))
            .add("small", small(), "gpt2")
            .add("medium", of(50257, 1024, 1024, 24, 16), "gpt2-medium")
            .add("large", of(50257, 1024, 1280, 36, 20), "gpt2-large")
            .add("xl", of(50257, 1024, 1600, 48, 25), "gpt2-xl");

    public int nCtx() {
        return nPositions;
    }

    public int headDim() {
        return nEmbd / nHead;
    }

    public int nInner() {
        return 4 * nEmbd;
    }

    public Gpt2Config withDropout(float p) {
        return new Gpt2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, layerNormEpsilon, p, p, p, initializerRange);
    }

    public Gpt2Config withVocabSize(int v) {
        return FORMAT.with(this, "vocab_size", v);
    }

    public Gpt2Config withPositions(int n) {
        return FORMAT.with(this, "n_positions", n);
    }

    public Gpt2Config withLayers(int n) {
        return FORMAT.with(this, "n_layer", n);
    }

    /** Parameters of the model (tied head counted once). */
    public long parameterCount() {
        long d = nEmbd;
        long perLayer = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
        return (long) vocabSize * d + (long) nPositions * d + nLayer * perLayer + 2 * d;
    }
}
