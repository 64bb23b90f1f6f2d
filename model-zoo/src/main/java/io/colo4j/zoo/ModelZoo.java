package io.colo4j.zoo;

import io.colo4j.zoo.gpt2.Gpt2LanguageModel;
import io.colo4j.zoo.train.LanguageModel;

import io.colo4j.rules.ShardingRules;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
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
     * @param rulesResource the classpath resource of its sharding rules
     * @param adapter       how {@code train} and {@code eval} drive a built model
     */
    public record Family(String name, String description, List<String> configs, String defaultConfig, Builder builder,
                         String rulesResource, Adapter adapter) {
        public Family {
            configs = List.copyOf(configs);
            if (!configs.contains(defaultConfig)) {
                throw new IllegalArgumentException(name + ": default config " + defaultConfig + " is not one of " + configs);
            }
            Objects.requireNonNull(builder, "builder");
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

        /** The sharding rules shipped with the family. */
        public ShardingRules rules() {
            return ShardingRules.fromResource(rulesResource);
        }
    }

    private static final List<Family> FAMILIES = List.of(
            new Family("gpt2", "HF GPT2LMHeadModel: Conv1D layers, fused qkv, LM head tied to wte", Gpt2Config.NAMES, "tiny",
                    (config, seed) -> new Gpt2Model(Gpt2Config.named(config), seed), "/io/colo4j/zoo/gpt2/gpt2.rules.json",
                    model -> new Gpt2LanguageModel((Gpt2Model) model)),
            new Family("opt", "HF OPTForCausalLM: torch Linear q/k/v/out_proj, ReLU fc1/fc2, learned positions (offset 2), LM head tied to embed_tokens",
                    io.colo4j.zoo.opt.OptConfig.NAMES, "tiny",
                    (config, seed) -> new io.colo4j.zoo.opt.OptModel(io.colo4j.zoo.opt.OptConfig.named(config), seed),
                    "/io/colo4j/zoo/opt/opt.rules.json",
                    model -> new io.colo4j.zoo.opt.OptLanguageModel((io.colo4j.zoo.opt.OptModel) model)),
            new Family("llama", "HF LlamaForCausalLM: RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP, untied lm_head",
                    io.colo4j.zoo.llama.LlamaConfig.NAMES, "tiny",
                    (config, seed) -> new io.colo4j.zoo.llama.LlamaModel(io.colo4j.zoo.llama.LlamaConfig.named(config), seed),
                    "/io/colo4j/zoo/llama/llama.rules.json",
                    model -> new io.colo4j.zoo.llama.LlamaLanguageModel((io.colo4j.zoo.llama.LlamaModel) model)),
            new Family("bert", "HF BertForMaskedLM: post-LN encoder, separate query/key/value, MLM head tied to word_embeddings; masked-LM loss",
                    io.colo4j.zoo.bert.BertConfig.NAMES, "tiny",
                    (config, seed) -> new io.colo4j.zoo.bert.BertForMaskedLM(io.colo4j.zoo.bert.BertConfig.named(config), seed),
                    "/io/colo4j/zoo/bert/bert.rules.json",
                    model -> new io.colo4j.zoo.bert.BertLanguageModel((io.colo4j.zoo.bert.BertForMaskedLM) model)),
            new Family("t5", "HF T5ForConditionalGeneration (v1.0) with FlagAI's fused cross-attention key_value; relative position"
                    + " bias, tied head; the encoder reads the first half of a window, the decoder predicts the rest",
                    io.colo4j.zoo.t5.T5Config.NAMES, "tiny",
                    (config, seed) -> new io.colo4j.zoo.t5.T5ForConditionalGeneration(io.colo4j.zoo.t5.T5Config.named(config), seed),
                    "/io/colo4j/zoo/t5/t5.rules.json",
                    model -> new io.colo4j.zoo.t5.T5LanguageModel((io.colo4j.zoo.t5.T5ForConditionalGeneration) model)));

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
