package io.colo4j.zoo;

import io.colo4j.zoo.gpt2.Gpt2LanguageModel;
import io.colo4j.zoo.train.LanguageModel;

import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.bert.BertForMaskedLM;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.llama.LlamaModel;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.opt.OptModel;
import io.colo4j.zoo.t5.T5Config;
import io.colo4j.zoo.t5.T5ForConditionalGeneration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The zoo's model families by name: how to build each from a named config, and the sharding rules
 * shipped next to it. Tools (coverage, train) and the data-driven rule tests go through this list, so a
 * family added here is covered by them automatically.
 */
public final class ModelZoo {
    /** Builds a family's model from one of its config names. */
    @FunctionalInterface
    public interface Builder {
        Module build(String config, long seed);
    }

    /**
     * Builds a small stand-in for a named config, for sizing a run without allocating the model: each
     * layer stack cut to at most {@link ProxyShape#maxLayersPerStack()} layers, the vocabulary and the
     * position count replaced; widths, heads, intermediate sizes, dropout and everything else stay the
     * config's. Under the same rules it issues, per layer and per token, the collectives the full model
     * does (the vocabulary-parallel layers communicate per token, never per vocabulary entry), at a small
     * fraction of its memory.
     */
    @FunctionalInterface
    public interface ProxyBuilder {
        Module build(String config, ProxyShape shape, long seed);
    }

    /** How a proxy differs from its config (see {@link ProxyBuilder}). */
    public record ProxyShape(int maxLayersPerStack, int vocabSize, int positions) {
        public ProxyShape {
            if (maxLayersPerStack < 1 || vocabSize < 1 || positions < 1) {
                throw new IllegalArgumentException("proxy: layers, vocabulary and positions must be >= 1, got "
                        + maxLayersPerStack + ", " + vocabSize + ", " + positions);
            }
        }

        /** The proxy's layer count for a stack the config gives {@code configLayers}. */
        public int layers(int configLayers) {
            return Math.min(configLayers, maxLayersPerStack);
        }
    }

    /** Wraps a built model as the trainer sees it (loss on a token window, save/load as a model folder). */
    @FunctionalInterface
    public interface Adapter {
        LanguageModel adapt(Module model);
    }

    /**
     * One model family.
     *
     * @param name          what {@code --model} says ({@code gpt2})
     * @param description   one line
     * @param configs       the config names {@link #build} takes, smallest first
     * @param defaultConfig the config tools use when none is given (small enough for tests)
     * @param builder       builds the serial model; inside an {@link io.colo4j.tensor.colo.InitContext}
     *                      its parameters are lazy, so even the largest config costs no memory
     * @param proxyBuilder  builds a config's proxy for sizing (fewer layers, small vocabulary)
     * @param rulesResource the classpath resource of its sharding rules
     * @param adapter       how {@code train} and {@code eval} drive a built model
     */
    public record Family(String name, String description, List<String> configs, String defaultConfig, Builder builder,
                         ProxyBuilder proxyBuilder, String rulesResource, Adapter adapter) {
        public Family {
            configs = List.copyOf(configs);
            if (!configs.contains(defaultConfig)) {
                throw new IllegalArgumentException(name + ": default config " + defaultConfig + " is not one of " + configs);
            }
            Objects.requireNonNull(builder, "builder");
            Objects.requireNonNull(proxyBuilder, "proxyBuilder");
            Objects.requireNonNull(rulesResource, "rulesResource");
            Objects.requireNonNull(adapter, "adapter");
        }

        /** The built model as the trainer drives it. */
        public LanguageModel languageModel(Module model) {
            return adapter.adapt(model);
        }

        public Module build(String config, long seed) {
            return builder.build(config, seed);
        }

        /**
         * The serial model with lazy parameters and nothing allocated: built inside an InitContext on a
         * one-rank world, for what needs only its shapes (rule coverage, sizing). Planning specs on it
         * ({@link ShardingRules#plan}) does not materialise it either.
         */
        public Module buildLazily(String config) {
            return ThreadWorld.call(1, comm -> {
                try (InitContext ignored = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                    return build(config, 0L);
                }
            }).get(0);
        }

        /** The config's proxy (see {@link ProxyBuilder}); built inside an InitContext its parameters are lazy too. */
        public Module buildProxy(String config, ProxyShape shape, long seed) {
            return proxyBuilder.build(config, shape, seed);
        }

        /** The sharding rules shipped with the family. */
        public ShardingRules rules() {
            return ShardingRules.fromResource(rulesResource);
        }
    }

    private static final List<Family> FAMILIES = List.of(
            new Family("gpt2", "HF GPT2LMHeadModel: Conv1D layers, fused qkv, LM head tied to wte", Gpt2Config.NAMES, "tiny",
                    (config, seed) -> new Gpt2Model(Gpt2Config.named(config), seed),
                    (config, shape, seed) -> {
                        Gpt2Config c = Gpt2Config.named(config);
                        return new Gpt2Model(c.withLayers(shape.layers(c.nLayer())).withVocabSize(shape.vocabSize())
                                .withPositions(shape.positions()), seed);
                    },
                    "/io/colo4j/zoo/gpt2/gpt2.rules.json",
                    model -> new Gpt2LanguageModel((Gpt2Model) model)),
            new Family("opt", "HF OPTForCausalLM: torch Linear q/k/v/out_proj, ReLU fc1/fc2, learned positions (offset 2), LM head tied to embed_tokens",
                    OptConfig.NAMES, "tiny",
                    (config, seed) -> new OptModel(OptConfig.named(config), seed),
                    (config, shape, seed) -> {
                        OptConfig c = OptConfig.named(config);
                        return new OptModel(c.withLayers(shape.layers(c.numHiddenLayers())).withVocabSize(shape.vocabSize())
                                .withMaxPositions(shape.positions()), seed);
                    },
                    "/io/colo4j/zoo/opt/opt.rules.json",
                    model -> new io.colo4j.zoo.opt.OptLanguageModel((OptModel) model)),
            new Family("llama", "HF LlamaForCausalLM: RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP, untied lm_head",
                    LlamaConfig.NAMES, "tiny",
                    (config, seed) -> new LlamaModel(LlamaConfig.named(config), seed),
                    (config, shape, seed) -> {
                        LlamaConfig c = LlamaConfig.named(config);
                        return new LlamaModel(c.withLayers(shape.layers(c.numHiddenLayers())).withVocabSize(shape.vocabSize())
                                .withMaxPositions(shape.positions()), seed);
                    },
                    "/io/colo4j/zoo/llama/llama.rules.json",
                    model -> new io.colo4j.zoo.llama.LlamaLanguageModel((LlamaModel) model)),
            new Family("bert", "HF BertForMaskedLM: post-LN encoder, separate query/key/value, MLM head tied to word_embeddings; masked-LM loss",
                    BertConfig.NAMES, "tiny",
                    (config, seed) -> new BertForMaskedLM(BertConfig.named(config), seed),
                    (config, shape, seed) -> {
                        BertConfig c = BertConfig.named(config);
                        return new BertForMaskedLM(c.withLayers(shape.layers(c.numHiddenLayers())).withVocabSize(shape.vocabSize())
                                .withMaxPositions(shape.positions()), seed);
                    },
                    "/io/colo4j/zoo/bert/bert.rules.json",
                    model -> new io.colo4j.zoo.bert.BertLanguageModel((BertForMaskedLM) model)),
            new Family("t5", "HF T5ForConditionalGeneration (v1.0) with FlagAI's fused cross-attention key_value; relative position"
                    + " bias, tied head; the encoder reads the first half of a window, the decoder predicts the rest",
                    T5Config.NAMES, "tiny",
                    (config, seed) -> new T5ForConditionalGeneration(T5Config.named(config), seed),
                    (config, shape, seed) -> {
                        T5Config c = T5Config.named(config);
                        return new T5ForConditionalGeneration(c.withLayers(shape.layers(c.numLayers()), shape.layers(c.numDecoderLayers()))
                                .withVocabSize(shape.vocabSize()).withPositions(shape.positions()), seed);
                    },
                    "/io/colo4j/zoo/t5/t5.rules.json",
                    model -> new io.colo4j.zoo.t5.T5LanguageModel((T5ForConditionalGeneration) model)));

    private ModelZoo() {}

    public static List<Family> families() {
        return FAMILIES;
    }

    public static List<String> names() {
        return FAMILIES.stream().map(Family::name).toList();
    }

    /** The family called {@code name} (case-insensitive); fails listing the known names. */
    public static Family family(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return FAMILIES.stream().filter(f -> f.name().equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown model '" + name + "'; the zoo has " + names()));
    }
}
