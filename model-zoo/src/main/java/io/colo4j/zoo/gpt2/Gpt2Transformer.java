package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.zoo.nn.TokenIds;

/** HF's GPT2Model (the {@code transformer} of GPT2LMHeadModel): embeddings, blocks, final LayerNorm. */
public final class Gpt2Transformer extends Module {
    private final Gpt2Config config;
    private final Embedding wte;
    private final Embedding wpe;
    private final ModuleList<Gpt2Block> h;
    private final LayerNorm lnF;

    public Gpt2Transformer(Gpt2Config config, String path, long seed) {
        this.config = config;
        this.wte = registerModule("wte", new Embedding(path + ".wte", config.vocabSize(), config.nEmbd(), config.initializerRange(), seed));
        this.wpe = registerModule("wpe", new Embedding(path + ".wpe", config.nPositions(), config.nEmbd(), config.initializerRange(), seed));
        this.h = registerModule("h", new ModuleList<>());
        for (int i = 0; i < config.nLayer(); i++) {
            h.add(new Gpt2Block(config, path + ".h." + i, seed));
        }
        this.lnF = registerModule("ln_f", new LayerNorm(config.nEmbd(), config.layerNormEpsilon()));
    }

    /** ids [B, T] -> hidden states [B, T, nEmbd] after ln_f. */
    public Tensor forward(IntTensor ids, long dropoutSeed) {
        return forward(ids, dropoutSeed, null);
    }

    /** ids [B, T] after {@code cache}'s tokens (null: from position 0) -> hidden states [B, T, nEmbd]; advances the cache. */
    public Tensor forward(IntTensor ids, long dropoutSeed, KvCache cache) {
        int t = TokenIds.seqLength(ids, "gpt2");
        int[] positions = KvCache.positions(cache, t, 0, "gpt2", "n_positions", config.nPositions());
        Tensor x = F.add(wte.forward(ids), wpe.forward(IntTensor.of(positions, t)));
        x = F.dropout(x, config.embdPdrop(), isTraining(), DropoutSeeds.site(dropoutSeed, "transformer.drop"));
        for (Gpt2Block block : h) {
            x = Recompute.layer("transformer.h", in -> block.forward(in[0], dropoutSeed, cache), x);
        }
        if (cache != null) {
            cache.advance(t);
        }
        return lnF.forward(x);
    }

    public Embedding wte() {
        return wte;
    }
}
