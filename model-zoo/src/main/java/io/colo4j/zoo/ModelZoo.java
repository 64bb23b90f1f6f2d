package io.colo4j.zoo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.bert.BertCheckpoint;
import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.bert.BertLanguageModel;
import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamily;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.llama.LlamaCheckpoint;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.opt.OptCheckpoint;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.t5.T5Checkpoint;
import io.colo4j.zoo.t5.T5Config;
import io.colo4j.zoo.t5.T5LanguageModel;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

        /** The same proxy with at most {@code layers} layers per stack. */
        public ProxyShape withLayers(int layers) {
            return new ProxyShape(layers, vocabSize, positions);
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
     * @param hf            its configs as values and its HF model folders (for {@code --init}, {@code --resume},
     *                      {@code eval}); null for a family assembled only from the functions above
     * @param rulesFile     a user's rules file that {@link #rules()} reads instead of {@code rulesResource}; null for the bundled rules
     * @param sequenceParallel true ({@code --sequence-parallel}) or false: {@link #rules()} turn sequence parallelism on or off
     *                      whatever the file says; null: as the file says
     */
    public record Family(String name, String description, List<String> configs, String defaultConfig, Builder builder,
                         ProxyBuilder proxyBuilder, String rulesResource, Adapter adapter, HfFamilyOps hf, Path rulesFile,
                         Boolean sequenceParallel) {
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

        /** A family as its rules file says, sequence parallel or not. */
        public Family(String name, String description, List<String> configs, String defaultConfig, Builder builder,
                      ProxyBuilder proxyBuilder, String rulesResource, Adapter adapter, HfFamilyOps hf, Path rulesFile) {
            this(name, description, configs, defaultConfig, builder, proxyBuilder, rulesResource, adapter, hf, rulesFile, null);
        }

        /** A family with the bundled rules. */
        public Family(String name, String description, List<String> configs, String defaultConfig, Builder builder,
                      ProxyBuilder proxyBuilder, String rulesResource, Adapter adapter, HfFamilyOps hf) {
            this(name, description, configs, defaultConfig, builder, proxyBuilder, rulesResource, adapter, hf, null);
        }

        /** A family without HF model folders, made of its functions alone. */
        public Family(String name, String description, List<String> configs, String defaultConfig, Builder builder,
                      ProxyBuilder proxyBuilder, String rulesResource, Adapter adapter) {
            this(name, description, configs, defaultConfig, builder, proxyBuilder, rulesResource, adapter, null);
        }

        /** A zoo family: every function comes from its {@link HfFamily}; its default config is "tiny". */
        static Family of(String name, String description, String rulesResource, HfFamily<?, ?> hf) {
            return new Family(name, description, hf.named().names(), "tiny", (config, seed) -> hf.build(hf.config(config), seed),
                    (config, shape, seed) -> hf.build(hf.proxy(hf.config(config), shape.maxLayersPerStack(), shape.vocabSize(),
                            shape.positions()), seed),
                    rulesResource, hf::languageModel, hf);
        }

        /** Its configs as values and its model folders; fails naming the family when it has none. */
        public HfFamilyOps requireHf() {
            if (hf == null) {
                throw new IllegalStateException(name + " has no HF model folders");
            }
            return hf;
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

        /**
         * {@code config}'s model as one rank of a tp group of {@code comm.size()} ranks holds it: the serial model at
         * tp 1, else built lazily and laid out by the family's rules, so the rank materialises only its shards.
         */
        public Module buildOnRank(HfConfig config, long seed, Communicator comm) {
            if (comm.size() == 1) {
                return requireHf().build(config, seed);
            }
            Module model;
            try (InitContext ignored = InitContext.open(ProcessGroup.of(comm.size(), 1), comm, "cpu")) {
                model = requireHf().build(config, seed);
            }
            rules().apply(model);
            return model;
        }

        /** The config's proxy (see {@link ProxyBuilder}); built inside an InitContext its parameters are lazy too. */
        public Module buildProxy(String config, ProxyShape shape, long seed) {
            return proxyBuilder.build(config, shape, seed);
        }

        /** The family's sharding rules: the user's {@link #rulesFile} when given, else those shipped with it. */
        public ShardingRules rules() {
            ShardingRules rules = rulesFile != null ? ShardingRules.fromJson(rulesFile) : ShardingRules.fromResource(rulesResource);
            return sequenceParallel == null ? rules : rules.withSequenceParallel(sequenceParallel);
        }

        /**
         * This family with sequence parallelism switched on in its rules ({@code --sequence-parallel}), or (false) as its
         * rules file says: an earlier switch, on or off, is dropped.
         */
        public Family withSequenceParallel(boolean on) {
            return withSequenceParallelAs(on ? Boolean.TRUE : null);
        }

        /** This family with sequence parallelism switched off whatever its rules say (what the activation sizing traces). */
        public Family withoutSequenceParallel() {
            return withSequenceParallelAs(false);
        }

        private Family withSequenceParallelAs(Boolean on) {
            return new Family(name, description, configs, defaultConfig, builder, proxyBuilder, rulesResource, adapter, hf, rulesFile, on);
        }

        /**
         * This family sharded by the rules in {@code file} instead of its bundled ones: everything that shards its models
         * (train, eval, generate, the sizing plan and its proxy) goes through {@link #rules()}.
         */
        public Family withRules(Path file) {
            return new Family(name, description, configs, defaultConfig, builder, proxyBuilder, rulesResource, adapter, hf, file,
                    sequenceParallel);
        }

        /**
         * This family with a single config, {@code config} under the name {@code label} (e.g. a model folder's), so what
         * takes a config name (the sizing plan, its proxy) can size a model that none of the named configs describes.
         */
        public Family pinned(String label, HfConfig config) {
            HfFamilyOps ops = requireHf();
            return new Family(name, description, List.of(label), label, (c, seed) -> ops.build(config, seed),
                    (c, shape, seed) -> ops.build(ops.proxy(config, shape.maxLayersPerStack(), shape.vocabSize(), shape.positions()), seed),
                    rulesResource, adapter, hf, rulesFile, sequenceParallel);
        }
    }

    private static final List<Family> FAMILIES = List.of(
            Family.of("gpt2", "HF GPT2LMHeadModel: Conv1D layers, fused qkv, LM head tied to wte", "/io/colo4j/zoo/gpt2/gpt2.rules.json",
                    HfFamily.causal(Gpt2Config.NAMED, Gpt2Checkpoint.FORMAT, Gpt2Config.DROPOUTS, "n_layer")),
            Family.of("opt", "HF OPTForCausalLM: torch Linear q/k/v/out_proj, ReLU fc1/fc2, learned positions (offset 2), LM head tied"
                    + " to embed_tokens", "/io/colo4j/zoo/opt/opt.rules.json",
                    HfFamily.causal(OptConfig.NAMED, OptCheckpoint.FORMAT, OptConfig.DROPOUTS, "num_hidden_layers")),
            Family.of("llama", "HF LlamaForCausalLM: RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP, untied lm_head",
                    "/io/colo4j/zoo/llama/llama.rules.json",
                    HfFamily.causal(LlamaConfig.NAMED, LlamaCheckpoint.FORMAT, List.of("attention_dropout"), "num_hidden_layers")),
            Family.of("bert", "HF BertForMaskedLM: post-LN encoder, separate query/key/value, MLM head tied to word_embeddings;"
                    + " masked-LM loss", "/io/colo4j/zoo/bert/bert.rules.json",
                    new HfFamily<>(BertConfig.NAMED, BertCheckpoint.FORMAT, BertLanguageModel::new, BertConfig.DROPOUTS,
                            List.of("num_hidden_layers"))),
            Family.of("t5", "HF T5ForConditionalGeneration (v1.0) with FlagAI's fused cross-attention key_value; relative position"
                    + " bias, tied head; the encoder reads the first half of a window, the decoder predicts the rest",
                    "/io/colo4j/zoo/t5/t5.rules.json",
                    new HfFamily<>(T5Config.NAMED, T5Checkpoint.FORMAT, T5LanguageModel::new, T5Config.DROPOUTS,
                            List.of("num_layers", "num_decoder_layers"))));

    private ModelZoo() {}

    public static List<Family> families() {
        return FAMILIES;
    }

    public static List<String> names() {
        return FAMILIES.stream().map(Family::name).toList();
    }

    /** The family whose model_type the HF model folder {@code dir}'s config.json names. */
    public static Family familyOf(Path dir) throws IOException {
        Path config = dir.resolve(HfCheckpoint.CONFIG);
        if (!Files.exists(config)) {
            throw new IOException(dir + ": not a model folder (no " + HfCheckpoint.CONFIG + ")");
        }
        String type; // the file checked and named as readConfig does (a FIFO, not UTF-8, bad JSON: found by bench fuzz)
        try {
            type = new ObjectMapper().readTree(io.colo4j.zoo.io.InputFiles.readUtf8(config, "config")).path("model_type").asText("");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(config + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        return FAMILIES.stream().filter(f -> f.hf() != null && f.hf().modelType().equals(type)).findFirst()
                .orElseThrow(() -> new IOException(config + ": model_type '" + type + "' is none of the zoo's " + names()));
    }

    /** The family called {@code name} (case-insensitive); fails listing the known names. */
    public static Family family(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return FAMILIES.stream().filter(f -> f.name().equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown model '" + name + "'; the zoo has " + names()));
    }
}
