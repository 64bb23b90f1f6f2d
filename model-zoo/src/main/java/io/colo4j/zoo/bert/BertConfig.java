package io.colo4j.zoo.bert;

import com.fasterxml.jackson.databind.node.IntNode;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfConfigFormat.Derived;
import io.colo4j.zoo.hf.HfConfigFormat.Fixed;
import io.colo4j.zoo.hf.HfConfigFormat;
import io.colo4j.zoo.hf.NamedConfigs;
import java.util.List;
import java.util.Map;

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
                         String hiddenAct, float hiddenDropoutProb, float attentionProbsDropoutProb,
                         int maxPositionEmbeddings, int typeVocabSize, float initializerRange, float layerNormEps,
                         int padTokenId, int maskTokenId, boolean addPoolingLayer) implements HfConfig {
    /** The activations {@code hidden_act} may name. */
    public static final List<String> ACTIVATIONS = List.of("gelu", "gelu_new", "gelu_pytorch_tanh", "relu");

    /** The dropout probabilities {@code --dropout} sets. */
    public static final List<String> DROPOUTS = List.of("hidden_dropout_prob", "attention_probs_dropout_prob");

    public static final HfConfigFormat<BertConfig> FORMAT = new HfConfigFormat<>(BertConfig.class, "bert", "max_position_embeddings",
            of(30522, 768, 12, 12, 3072, 512, 103),
            List.of(new Derived("mask_token_id", (file, merged) -> {
                int vocab = merged.get("vocab_size").asInt();
                return IntNode.valueOf(vocab > 103 ? 103 : vocab - 1);
            })),
            List.of(Fixed.informative("architectures", List.of("BertForMaskedLM")),
                    Fixed.written("position_embedding_type", "absolute"),
                    Fixed.checked("is_decoder", false, "BERT as a decoder is not supported"),
                    Fixed.checked("add_cross_attention", false, "BERT as a decoder is not supported"),
                    Fixed.written("tie_word_embeddings", true)));

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
    public static final NamedConfigs<BertConfig> NAMED = NamedConfigs.<BertConfig>of("bert")
            .add("tiny", tiny())
            .add("base", base(), "bert-base-uncased")
            .add("large", large(), "bert-large-uncased");

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    public BertConfig withDropout(float p) {
        return FORMAT.withAll(this, DROPOUTS, p);
    }

    /**
     * Another vocabulary size; [PAD] and [MASK] keep their ids where the new vocabulary has them and
     * otherwise become its last id (a proxy's small vocabulary: which id masks changes no shape).
     */
    public BertConfig withVocabSize(int v) {
        return FORMAT.with(this, Map.of("vocab_size", v, "pad_token_id", Math.min(padTokenId, v - 1),
                "mask_token_id", Math.min(maskTokenId, v - 1)));
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

}
