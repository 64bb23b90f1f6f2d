package io.colo4j.zoo.gpt2;

import static io.colo4j.zoo.io.HfConfigFields.decimal;
import static io.colo4j.zoo.io.HfConfigFields.floatField;
import static io.colo4j.zoo.io.HfConfigFields.intField;

import com.fasterxml.jackson.core.JacksonException;
import io.colo4j.zoo.io.HfConfigFields;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * GPT-2's hyper-parameters, named as in HF's GPT2Config ({@code config.json}): vocab_size, n_positions,
 * n_embd, n_layer, n_head, layer_norm_epsilon, embd/attn/resid_pdrop, initializer_range. The MLP is
 * always 4 * n_embd wide and the activation is gelu_new (tanh), as in every published GPT-2.
 */
public record Gpt2Config(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, float layerNormEpsilon,
                         float embdPdrop, float attnPdrop, float residPdrop, float initializerRange) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The named configurations {@link #named} knows. */
    public static final List<String> NAMES = List.of("tiny", "mini", "small", "medium", "large", "xl");

    public Gpt2Config {
        if (vocabSize < 1 || nPositions < 1 || nEmbd < 1 || nLayer < 0 || nHead < 1) {
            throw new IllegalArgumentException("gpt2 config: sizes must be positive (vocab " + vocabSize + ", positions "
                    + nPositions + ", embd " + nEmbd + ", layers " + nLayer + ", heads " + nHead + ")");
        }
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("gpt2 config: n_embd " + nEmbd + " is not divisible by n_head " + nHead);
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

    /** The main job's model: byte vocabulary, 4 layers, 128 wide, 4 heads, 128 positions (0.8M parameters). */
    public static Gpt2Config mini() {
        return of(256, 128, 128, 4, 4).withDropout(0f);
    }

    /** HF {@code gpt2} (124M). */
    public static Gpt2Config small() {
        return of(50257, 1024, 768, 12, 12);
    }

    /** HF {@code gpt2-medium} (355M). */
    public static Gpt2Config medium() {
        return of(50257, 1024, 1024, 24, 16);
    }

    /** HF {@code gpt2-large} (774M). */
    public static Gpt2Config large() {
        return of(50257, 1024, 1280, 36, 20);
    }

    /** HF {@code gpt2-xl} (1.5B). */
    public static Gpt2Config xl() {
        return of(50257, 1024, 1600, 48, 25);
    }

    /** tiny, small, medium, large or xl (also gpt2, gpt2-medium, gpt2-large, gpt2-xl). */
    public static Gpt2Config named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> tiny();
            case "mini" -> mini();
            case "small", "gpt2" -> small();
            case "medium", "gpt2-medium" -> medium();
            case "large", "gpt2-large" -> large();
            case "xl", "gpt2-xl" -> xl();
            default -> throw new IllegalArgumentException("unknown gpt2 config '" + name + "'; known: " + NAMES);
        };
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
        return new Gpt2Config(v, nPositions, nEmbd, nLayer, nHead, layerNormEpsilon, embdPdrop, attnPdrop, residPdrop, initializerRange);
    }

    public Gpt2Config withPositions(int n) {
        return new Gpt2Config(vocabSize, n, nEmbd, nLayer, nHead, layerNormEpsilon, embdPdrop, attnPdrop, residPdrop, initializerRange);
    }

    public Gpt2Config withLayers(int n) {
        return new Gpt2Config(vocabSize, nPositions, nEmbd, n, nHead, layerNormEpsilon, embdPdrop, attnPdrop, residPdrop, initializerRange);
    }

    /** Parameters of the model (tied head counted once). */
    public long parameterCount() {
        long d = nEmbd;
        long perLayer = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
        return (long) vocabSize * d + (long) nPositions * d + nLayer * perLayer + 2 * d;
    }

    // ---- HF config.json ----------------------------------------------------------------------

    public static Gpt2Config read(Path configJson) throws IOException {
        return HfConfigFields.read(configJson, Gpt2Config::fromJson);
    }

    public static Gpt2Config parse(String json) throws IOException {
        return HfConfigFields.parse(json, "gpt2", Gpt2Config::fromJson);
    }

    static Gpt2Config fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText("gpt2");
        if (!type.equals("gpt2")) {
            throw new IllegalArgumentException("model_type is '" + type + "', not gpt2");
        }
        String act = root.path("activation_function").asText("gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw new IllegalArgumentException("activation_function '" + act + "' is not supported (only gelu_new)");
        }
        int nEmbd = intField(root, "n_embd", 768);
        JsonNode inner = root.get("n_inner");
        if (inner != null && !inner.isNull() && inner.asInt() != 4 * nEmbd) {
            throw new IllegalArgumentException("n_inner " + inner.asInt() + " is not supported (only 4 * n_embd)");
        }
        if (root.path("scale_attn_by_inverse_layer_idx").asBoolean(false) || !root.path("scale_attn_weights").asBoolean(true)
                || root.path("reorder_and_upcast_attn").asBoolean(false)) {
            throw new IllegalArgumentException("non-default attention scaling options are not supported");
        }
        if (!root.path("tie_word_embeddings").asBoolean(true)) {
            throw new IllegalArgumentException("tie_word_embeddings false is not supported: the LM head is tied to wte");
        }
        int positions = root.has("n_positions") ? intField(root, "n_positions", 1024) : intField(root, "n_ctx", 1024);
        return new Gpt2Config(intField(root, "vocab_size", 50257), positions, nEmbd,
                intField(root, "n_layer", 12), intField(root, "n_head", 12),
                floatField(root, "layer_norm_epsilon", 1e-5f), floatField(root, "embd_pdrop", 0.1f),
                floatField(root, "attn_pdrop", 0.1f), floatField(root, "resid_pdrop", 0.1f),
                floatField(root, "initializer_range", 0.02f));
    }

    /** HF-style config.json content. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", "gpt2");
        o.putArray("architectures").add("GPT2LMHeadModel");
        o.put("vocab_size", vocabSize);
        o.put("n_positions", nPositions);
        o.put("n_ctx", nPositions);
        o.put("n_embd", nEmbd);
        o.put("n_layer", nLayer);
        o.put("n_head", nHead);
        o.putNull("n_inner");
        o.put("activation_function", "gelu_new");
        o.put("layer_norm_epsilon", decimal(layerNormEpsilon));
        o.put("embd_pdrop", decimal(embdPdrop));
        o.put("attn_pdrop", decimal(attnPdrop));
        o.put("resid_pdrop", decimal(residPdrop));
        o.put("initializer_range", decimal(initializerRange));
        o.put("tie_word_embeddings", true);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The float's shortest decimal form as a double (1e-5f is written 1.0E-5, not 9.99999974737875E-6). */

    /** Writes config.json atomically. */
    public void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}
