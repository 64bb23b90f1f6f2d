package io.colo4j.zoo.bert;

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
 * BERT's hyper-parameters, named as in HF's BertConfig ({@code config.json}). Two fields are this
 * project's additions, which HF keeps as plain attributes: {@code mask_token_id} (the id masked-LM
 * training puts in place of a masked token; 103 = {@code [MASK]} in the uncased WordPiece vocabulary)
 * and {@code add_pooling_layer} (whether the model has {@code bert.pooler}; HF's BertForMaskedLM has
 * none, its BertForPreTraining and the hub checkpoints have one).
 *
 * @param hiddenAct {@code gelu} (exact, erf), {@code gelu_new} / {@code gelu_pytorch_tanh} (tanh
 *                  approximation) or {@code relu}
 */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                         String hiddenAct, float hiddenDropoutProb, float attentionProbsDropoutProb, int maxPositionEmbeddings,
                         int typeVocabSize, float initializerRange, float layerNormEps, int padTokenId, int maskTokenId,
                         boolean addPoolingLayer) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The named configurations {@link #named} knows, smallest first. */
    public static final List<String> NAMES = List.of("tiny", "base", "large");

    /** The activations {@code hidden_act} may name. */
    public static final List<String> ACTIVATIONS = List.of("gelu", "gelu_new", "gelu_pytorch_tanh", "relu");

    public BertConfig {
        if (vocabSize < 1 || hiddenSize < 1 || numHiddenLayers < 0 || numAttentionHeads < 1 || intermediateSize < 1
                || maxPositionEmbeddings < 1 || typeVocabSize < 1) {
            throw new IllegalArgumentException("bert config: sizes must be positive (vocab " + vocabSize + ", hidden " + hiddenSize
                    + ", layers " + numHiddenLayers + ", heads " + numAttentionHeads + ", intermediate " + intermediateSize
                    + ", positions " + maxPositionEmbeddings + ", token types " + typeVocabSize + ")");
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("bert config: hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new IllegalArgumentException("bert config: hidden_act '" + hiddenAct + "' is not supported; known: " + ACTIVATIONS);
        }
        if (!(layerNormEps > 0) || !(initializerRange >= 0)) {
            throw new IllegalArgumentException("bert config: layer_norm_eps must be > 0 and initializer_range >= 0");
        }
        for (float p : new float[] {hiddenDropoutProb, attentionProbsDropoutProb}) {
            if (!(p >= 0f && p < 1f)) {
                throw new IllegalArgumentException("bert config: dropout probabilities must lie in [0, 1), got " + p);
            }
        }
        if (padTokenId < 0 || padTokenId >= vocabSize || maskTokenId < 0 || maskTokenId >= vocabSize) {
            throw new IllegalArgumentException("bert config: pad_token_id " + padTokenId + " and mask_token_id " + maskTokenId
                    + " must be ids of the vocabulary of " + vocabSize);
        }
    }

    /** HF's defaults (gelu, dropout 0.1, 512 positions, 2 token types, init 0.02, eps 1e-12) with the given sizes. */
    public static BertConfig of(int vocabSize, int hiddenSize, int layers, int heads, int intermediateSize, int positions,
                                int maskTokenId) {
        return new BertConfig(vocabSize, hiddenSize, layers, heads, intermediateSize, "gelu", 0.1f, 0.1f, positions, 2, 0.02f,
                1e-12f, 0, maskTokenId, true);
    }

    /**
     * For tests and smoke runs: the 256 byte ids plus {@code [MASK]} = 256 (257 ids, so a vocab-parallel
     * table is padded at any tp), 2 layers, 64 wide, 4 heads, 64 positions, no dropout.
     */
    public static BertConfig tiny() {
        return of(257, 64, 2, 4, 256, 64, 256).withDropout(0f);
    }

    /** HF {@code bert-base-uncased} (110M). */
    public static BertConfig base() {
        return of(30522, 768, 12, 12, 3072, 512, 103);
    }

    /** HF {@code bert-large-uncased} (340M). */
    public static BertConfig large() {
        return of(30522, 1024, 24, 16, 4096, 512, 103);
    }

    /** tiny, base or large (also bert-base-uncased, bert-large-uncased). */
    public static BertConfig named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> tiny();
            case "base", "bert-base-uncased" -> base();
            case "large", "bert-large-uncased" -> large();
            default -> throw new IllegalArgumentException("unknown bert config '" + name + "'; known: " + NAMES);
        };
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    public BertConfig withDropout(float p) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, p, p,
                maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId, maskTokenId, addPoolingLayer);
    }

    public BertConfig withHiddenAct(String act) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, act, hiddenDropoutProb,
                attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
                maskTokenId, addPoolingLayer);
    }

    public BertConfig withPooler(boolean pooler) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
                attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
                maskTokenId, pooler);
    }

    public BertConfig withInitializerRange(float std) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
                attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, std, layerNormEps, padTokenId, maskTokenId,
                addPoolingLayer);
    }

    public BertConfig withLayers(int n) {
        return new BertConfig(vocabSize, hiddenSize, n, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
                attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
                maskTokenId, addPoolingLayer);
    }

    public BertConfig withMaxPositions(int n) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
                attentionProbsDropoutProb, n, typeVocabSize, initializerRange, layerNormEps, padTokenId, maskTokenId,
                addPoolingLayer);
    }

    /**
     * Another vocabulary size; [PAD] and [MASK] keep their ids where the new vocabulary has them and
     * otherwise become its last id (a proxy's small vocabulary: which id masks changes no shape).
     */
    public BertConfig withVocabSize(int v) {
        return new BertConfig(v, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
                attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps,
                Math.min(padTokenId, v - 1), Math.min(maskTokenId, v - 1), addPoolingLayer);
    }

    /** Parameters of the model (the tied MLM decoder counted once). */
    public long parameterCount() {
        long d = hiddenSize;
        long ff = intermediateSize;
        long embeddings = (long) vocabSize * d + (long) maxPositionEmbeddings * d + (long) typeVocabSize * d + 2 * d;
        long perLayer = 4 * (d * d + d) + 2 * d + (d * ff + ff) + (ff * d + d) + 2 * d;
        long pooler = addPoolingLayer ? d * d + d : 0;
        long head = d * d + d + 2 * d + vocabSize;
        return embeddings + numHiddenLayers * perLayer + pooler + head;
    }

    // ---- HF config.json ----------------------------------------------------------------------

    public static BertConfig read(Path configJson) throws IOException {
        return HfConfigFields.read(configJson, BertConfig::fromJson);
    }

    public static BertConfig parse(String json) throws IOException {
        return HfConfigFields.parse(json, "bert", BertConfig::fromJson);
    }

    static BertConfig fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText("bert");
        if (!type.equals("bert")) {
            throw new IllegalArgumentException("model_type is '" + type + "', not bert");
        }
        String positions = root.path("position_embedding_type").asText("absolute");
        if (!positions.equals("absolute")) {
            throw new IllegalArgumentException("position_embedding_type '" + positions + "' is not supported (only absolute)");
        }
        if (root.path("is_decoder").asBoolean(false) || root.path("add_cross_attention").asBoolean(false)) {
            throw new IllegalArgumentException("BERT as a decoder (is_decoder, add_cross_attention) is not supported");
        }
        if (!root.path("tie_word_embeddings").asBoolean(true)) {
            throw new IllegalArgumentException("tie_word_embeddings false is not supported: the MLM decoder is tied to word_embeddings");
        }
        int vocab = intField(root, "vocab_size", 30522);
        return new BertConfig(vocab, intField(root, "hidden_size", 768), intField(root, "num_hidden_layers", 12),
                intField(root, "num_attention_heads", 12), intField(root, "intermediate_size", 3072),
                root.path("hidden_act").asText("gelu"), floatField(root, "hidden_dropout_prob", 0.1f),
                floatField(root, "attention_probs_dropout_prob", 0.1f), intField(root, "max_position_embeddings", 512),
                intField(root, "type_vocab_size", 2), floatField(root, "initializer_range", 0.02f),
                floatField(root, "layer_norm_eps", 1e-12f), intField(root, "pad_token_id", 0),
                intField(root, "mask_token_id", vocab > 103 ? 103 : vocab - 1), root.path("add_pooling_layer").asBoolean(true));
    }

    /** HF-style config.json content. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", "bert");
        o.putArray("architectures").add("BertForMaskedLM");
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("intermediate_size", intermediateSize);
        o.put("hidden_act", hiddenAct);
        o.put("hidden_dropout_prob", decimal(hiddenDropoutProb));
        o.put("attention_probs_dropout_prob", decimal(attentionProbsDropoutProb));
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("type_vocab_size", typeVocabSize);
        o.put("initializer_range", decimal(initializerRange));
        o.put("layer_norm_eps", decimal(layerNormEps));
        o.put("pad_token_id", padTokenId);
        o.put("mask_token_id", maskTokenId);
        o.put("add_pooling_layer", addPoolingLayer);
        o.put("position_embedding_type", "absolute");
        o.put("tie_word_embeddings", true);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The float's shortest decimal form as a double (1e-12f is written 1.0E-12). */

    /** Writes config.json atomically. */
    public void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}
