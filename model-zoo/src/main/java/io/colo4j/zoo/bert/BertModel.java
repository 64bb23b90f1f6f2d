package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.zoo.nn.AttentionMask;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;
import io.colo4j.ops.nn.Params;
import io.colo4j.zoo.nn.TokenIds;
import java.util.Arrays;

/**
 * HF's BertModel (the {@code bert} of BertForMaskedLM): {@code embeddings} (word, position and
 * token-type tables, LayerNorm), {@code encoder.layer.N} and, when the config says so, {@code pooler}
 * (dense + tanh over the first token).
 */
public final class BertModel extends Module {
    private final BertConfig config;
    private final Embeddings embeddings;
    private final Encoder encoder;
    private final Pooler pooler;

    public BertModel(BertConfig config, String path, long seed) {
        this.config = config;
        this.embeddings = registerModule("embeddings", new Embeddings(config, path + ".embeddings", seed));
        this.encoder = registerModule("encoder", new Encoder(config, path + ".encoder", seed));
        this.pooler = config.addPoolingLayer() ? registerModule("pooler", new Pooler(config, path + ".pooler", seed)) : null;
    }

    /**
     * The last layer's hidden states [B, T, hidden].
     *
     * @param tokenTypes    [B, T] segment ids, or null for all 0
     * @param attentionMask [B, T] 1 for tokens to attend to, 0 for padding; null attends everywhere
     */
    public Tensor forward(IntTensor ids, IntTensor tokenTypes, IntTensor attentionMask, long dropoutSeed) {
        TokenIds.seqLength(ids, "bert", "max_position_embeddings", config.maxPositionEmbeddings());
        int[] s = ids.shape();
        for (IntTensor other : new IntTensor[] {tokenTypes, attentionMask}) {
            if (other != null && !Arrays.equals(other.shape(), s)) {
                throw new IllegalArgumentException("bert: token types and attention mask must be shaped like the ids "
                        + Arrays.toString(s) + ", got " + Arrays.toString(other.shape()));
            }
        }
        Tensor x = embeddings.forward(ids, tokenTypes, dropoutSeed);
        Tensor maskBias = attentionMask == null ? null : AttentionMask.bias(attentionMask);
        for (BertLayer layer : encoder.layer()) {
            x = Recompute.layer("encoder.layer", in -> layer.forward(in[0], in[1], dropoutSeed), x, maskBias);
        }
        return x;
    }

    /** The pooled output [B, hidden]: tanh(dense(hidden[:, 0])). */
    public Tensor pool(Tensor sequence) {
        if (pooler == null) {
            throw new IllegalStateException("bert: this model has no pooler (add_pooling_layer false)");
        }
        return pooler.forward(sequence);
    }

    public BertConfig config() {
        return config;
    }

    public Embeddings embeddings() {
        return embeddings;
    }

    /** The pooler, or null without one. */
    public Pooler pooler() {
        return pooler;
    }

    /** HF BertEmbeddings: word + position + token type, LayerNorm, dropout. */
    public static final class Embeddings extends Layer<BertConfig> {
        private final Embedding wordEmbeddings;
        private final Embedding positionEmbeddings;
        private final Embedding tokenTypeEmbeddings;
        private final LayerNorm layerNorm;

        Embeddings(BertConfig config, String path, long seed) {
            super(config, path);
            int d = config.hiddenSize();
            float std = config.initializerRange();
            // HF zeroes the padding row of the word table at init
            Init normal = Params.normal(seed, path + ".word_embeddings.weight", std);
            long padFrom = (long) config.padTokenId() * d;
            Init word = index -> index >= padFrom && index < padFrom + d ? 0f : normal.valueAt(index);
            this.wordEmbeddings = registerModule("word_embeddings", new Embedding(config.vocabSize(), d, word));
            this.positionEmbeddings = registerModule("position_embeddings",
                    new Embedding(path + ".position_embeddings", config.maxPositionEmbeddings(), d, std, seed));
            this.tokenTypeEmbeddings = registerModule("token_type_embeddings",
                    new Embedding(path + ".token_type_embeddings", config.typeVocabSize(), d, std, seed));
            this.layerNorm = registerModule("LayerNorm", new LayerNorm(d, config.layerNormEps()));
        }

        public Tensor forward(IntTensor ids, IntTensor tokenTypes, long dropoutSeed) {
            int[] s = ids.shape();
            int t = s[1];
            int[] positions = new int[t];
            for (int i = 0; i < t; i++) {
                positions[i] = i;
            }
            IntTensor types = tokenTypes != null ? tokenTypes : IntTensor.of(new int[ids.numel()], s);
            Tensor x = F.add(F.add(wordEmbeddings.forward(ids), tokenTypeEmbeddings.forward(types)),
                    positionEmbeddings.forward(IntTensor.of(positions, t)));
            x = layerNorm.forward(x);
            return F.dropout(x, config.hiddenDropoutProb(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        }

        public Embedding wordEmbeddings() {
            return wordEmbeddings;
        }
    }

    /** HF BertEncoder: {@code layer.N}. */
    public static final class Encoder extends Module {
        private final ModuleList<BertLayer> layer;

        Encoder(BertConfig config, String path, long seed) {
            this.layer = registerModule("layer", new ModuleList<>());
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                layer.add(new BertLayer(config, path + ".layer." + i, seed));
            }
        }

        public ModuleList<BertLayer> layer() {
            return layer;
        }
    }

    /** HF BertPooler: tanh(dense(first token)). */
    public static final class Pooler extends Module {
        private final BertConfig config;
        private final Linear dense;

        Pooler(BertConfig config, String path, long seed) {
            this.config = config;
            this.dense = registerModule("dense", new Linear(path + ".dense", config.hiddenSize(), config.hiddenSize(), true,
                    config.initializerRange(), seed));
        }

        public Tensor forward(Tensor sequence) {
            int b = sequence.size(0);
            Tensor first = sequence.narrow(1, 0, 1).reshape(b, config.hiddenSize());
            return F.tanh(dense.forward(first));
        }

        public Linear dense() {
            return dense;
        }
    }
}
