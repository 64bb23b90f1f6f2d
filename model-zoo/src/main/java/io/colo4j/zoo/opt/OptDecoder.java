package io.colo4j.zoo.opt;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;
import io.colo4j.ops.nn.Params;
import io.colo4j.zoo.nn.TokenIds;

/**
 * HF's OPTDecoder: embed_tokens, embed_positions (learned, read at position + 2), optional
 * project_out / project_in (when word_embed_proj_dim differs from hidden_size), optional
 * final_layer_norm, layers.N. Members are registered in HF's order.
 */
public final class OptDecoder extends Module {
    private final OptConfig config;
    private final Embedding embedTokens;
    private final Embedding embedPositions;
    /** Null unless the config projects (word_embed_proj_dim != hidden_size). */
    private final Linear projectOut;
    /** Null unless the config projects (word_embed_proj_dim != hidden_size). */
    private final Linear projectIn;
    /** Null for post-LN configs (and _remove_final_layer_norm). */
    private final LayerNorm finalLayerNorm;
    private final ModuleList<OptDecoderLayer> layers;

    public OptDecoder(OptConfig config, String path, long seed) {
        this.config = config;
        int d = config.hiddenSize();
        int e = config.wordEmbedProjDim();
        float std = config.initStd();
        this.embedTokens = registerModule("embed_tokens", new Embedding(config.vocabSize(), e,
                paddingRowZero(Params.normal(seed, path + ".embed_tokens.weight", std), config.padTokenId(), config.vocabSize(), e)));
        this.embedPositions = registerModule("embed_positions", new Embedding(path + ".embed_positions", config.positionRows(), d, std, seed));
        this.projectOut = config.projects() ? registerModule("project_out", new Linear(path + ".project_out", d, e, false, std, seed)) : null;
        this.projectIn = config.projects() ? registerModule("project_in", new Linear(path + ".project_in", e, d, false, std, seed)) : null;
        this.finalLayerNorm = config.hasFinalLayerNorm()
                ? registerModule("final_layer_norm", new LayerNorm(d, OptConfig.LAYER_NORM_EPS)) : null;
        this.layers = registerModule("layers", new ModuleList<>());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(new OptDecoderLayer(config, path + ".layers." + i, seed));
        }
    }

    /** HF zeroes the padding_idx row of embed_tokens at init. */
    private static Init paddingRowZero(Init init, int pad, int rows, int dim) {
        if (pad < 0 || pad >= rows) {
            return init;
        }
        return index -> index / dim == pad ? 0f : init.valueAt(index);
    }

    /** ids [B, T] -> hidden states [B, T, word_embed_proj_dim], ready for the tied LM head. */
    public Tensor forward(IntTensor ids, long dropoutSeed) {
        return forward(ids, dropoutSeed, null);
    }

    /** ids [B, T] after {@code cache}'s tokens (null: from position 0) -> hidden states; advances the cache. */
    public Tensor forward(IntTensor ids, long dropoutSeed, KvCache cache) {
        int t = TokenIds.seqLength(ids, "opt");
        int[] positions = KvCache.positions(cache, t, OptConfig.POSITION_OFFSET, "opt", "max_position_embeddings",
                config.maxPositionEmbeddings());
        Tensor x = embedTokens.forward(ids);
        if (projectIn != null) {
            x = projectIn.forward(x);
        }
        x = F.add(x, embedPositions.forward(IntTensor.of(positions, t)));
        for (OptDecoderLayer layer : layers) {
            x = Recompute.layer("decoder.layers", in -> layer.forward(in[0], dropoutSeed, cache), x);
        }
        if (cache != null) {
            cache.advance(t);
        }
        if (finalLayerNorm != null) {
            x = finalLayerNorm.forward(x);
        }
        if (projectOut != null) {
            x = projectOut.forward(x);
        }
        return x;
    }

    public Embedding embedTokens() {
        return embedTokens;
    }

    public ModuleList<OptDecoderLayer> layers() {
        return layers;
    }
}
