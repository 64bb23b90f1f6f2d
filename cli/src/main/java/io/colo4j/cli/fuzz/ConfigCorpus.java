package io.colo4j.cli.fuzz;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A tiny GPT-2 folder whose config.json is hostile (sizes that cannot fit or do not match the weights, wrong
 * types, numbers float32 cannot hold, trailing tokens, not UTF-8, not a regular file), through {@code eval}.
 */
final class ConfigCorpus implements Corpus {
    /** Fields whose every other value changes a weight's shape or the model's size: never valid with these weights. */
    private static final Set<String> SIZES = Set.of("n_layer", "n_embd", "vocab_size", "n_positions");
    private static final Set<String> FLOATS = Set.of("layer_norm_epsilon", "resid_pdrop", "embd_pdrop", "attn_pdrop", "initializer_range");
    private static final Set<String> NOT_NUMBERS = Set.of("\"abc\"", "\"\"", "true", "[]", "{}", "\"NaN\"", "[1, 2]", "1e300", "-1e300");

    private final FuzzAssets assets;
    private final String config;

    ConfigCorpus(FuzzAssets assets) {
        this.assets = assets;
        this.config = new String(assets.config, StandardCharsets.UTF_8);
    }

    private Case text(String label, Expect expect, byte[] json, boolean namesFile) {
        return new Case(label, expect, dir -> {
            Path m = assets.model(dir, json, assets.weights);
            // a config that reads but does not match the weights may be refused naming either file: the folder is named either way
            return HostileInput.Invocation.of(namesFile ? m.resolve("config.json") : m, "eval", "--model-dir", m, "--tokens",
                    FuzzAssets.tokens(dir));
        });
    }

    private Case text(String label, Expect expect, String json, boolean namesFile) {
        return text(label, expect, json.getBytes(StandardCharsets.UTF_8), namesFile);
    }

    private Case field(String field, String value) {
        return text(field + " " + value, expectation(field, value), JsonEdits.with(config, field, value), false);
    }

    private Expect expectation(String field, String value) {
        com.fasterxml.jackson.databind.JsonNode now = JsonEdits.parse(config).get(field);
        if (now != null && now.equals(JsonEdits.value(value))) {
            return Expect.VALID;
        }
        if (SIZES.contains(field) || field.equals("model_type")) {
            return Expect.INVALID;
        }
        if ((FLOATS.contains(field) || field.equals("n_head")) && NOT_NUMBERS.contains(value)) {
            return Expect.INVALID;
        }
        return Expect.EITHER;
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        cases.add(text("the valid config", Expect.VALID, config, true));
        cases.add(text("trailing garbage", Expect.INVALID, config + " garbage", true));
        cases.add(text("a second object", Expect.INVALID, config + "\n" + config, true));
        cases.add(field("n_layer", "200000"));
        cases.add(field("n_layer", "2147483647"));
        cases.add(field("vocab_size", "1000000000"));
        cases.add(field("n_positions", "2147483647"));
        cases.add(field("n_embd", "2147483520"));
        cases.add(field("layer_norm_epsilon", "1e300"));
        cases.add(field("n_inner", "\"abc\""));
        cases.add(text("not UTF-8", Expect.INVALID, FuzzAssets.notUtf8(config, config.indexOf('"') + 1), true));
        cases.add(new Case("a FIFO", Expect.INVALID, dir -> {
            Path m = assets.model(dir, null, assets.weights);
            FuzzAssets.fifo(m.resolve("config.json"));
            return HostileInput.Invocation.of(m.resolve("config.json"), "eval", "--model-dir", m, "--tokens", FuzzAssets.tokens(dir));
        }));
        cases.add(new Case("a folder", Expect.INVALID, dir -> {
            Path m = assets.model(dir, null, assets.weights);
            Files.createDirectory(m.resolve("config.json"));
            return HostileInput.Invocation.of(m.resolve("config.json"), "eval", "--model-dir", m, "--tokens", FuzzAssets.tokens(dir));
        }));
        cases.add(text("compact", Expect.VALID, JsonEdits.parse(config).toString(), true));
        cases.add(text("extra HF fields", Expect.VALID, JsonEdits.with(config, "architectures", "[\"GPT2LMHeadModel\"]"), true));
        cases.add(text("empty", Expect.INVALID, "", true));
        cases.add(text("cut in half", Expect.INVALID, config.substring(0, config.length() / 2), true));
        cases.add(text("an array", Expect.INVALID, "[" + config + "]", true));
        cases.add(text("null", Expect.INVALID, "null", true));
        for (String f : List.of("n_layer", "n_embd", "n_head", "vocab_size", "n_positions")) {
            for (String v : List.of("0", "-1", "\"abc\"", "true", "[]", "{}", "1e300")) {
                cases.add(field(f, v));
            }
        }
        cases.add(field("n_layer", "3"));
        cases.add(field("n_positions", "65"));
        cases.add(field("vocab_size", "257"));
        cases.add(field("n_embd", "128"));
        cases.add(field("model_type", "\"nosuch\""));
        cases.add(field("layer_norm_epsilon", "\"abc\""));
        cases.add(field("n_inner", "null"));
        return cases;
    }

    @Override
    public Case random(SplittableRandom rng) {
        List<String> fields = new ArrayList<>();
        JsonEdits.parse(config).fieldNames().forEachRemaining(fields::add);
        fields.add("n_inner");
        if (rng.nextInt(5) == 0) {
            // damage to a field's name leaves HF's default, which the weights then refuse: the folder is what is named
            return text("random damage", Expect.EITHER, JsonEdits.damage(assets.config, rng), false);
        }
        return field(fields.get(rng.nextInt(fields.size())), JsonEdits.randomValue(rng));
    }
}
