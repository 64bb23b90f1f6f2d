package io.colo4j.cli.fuzz;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * GPT-2's bundled rules made hostile (bad JSON, unknown roles, strides that split no fused block, Megatron roles on
 * LayerNorms, catastrophic and broken regexes, dead and conflicting rules, not a regular file), through
 * {@code coverage --strict} at tp 2: a file that does not parse must name the file, a rule that is wrong the rule.
 */
final class RulesCorpus implements Corpus {
    static final String RESOURCE = "/io/colo4j/zoo/gpt2/gpt2.rules.json";
    /** Backtracks exponentially (the back-reference turns off java.util.regex's loop memo): the rules engine must give up. */
    static final String CATASTROPHIC = "(\\w*\\.?\\w*)+\\1x";
    private static final String[] FIELDS = {"spec", "stride", "match", "regex", "outputReplicate", "inputIsParallel", "name", "params"};

    private final String rules;

    RulesCorpus(FuzzAssets assets) {
        try (InputStream in = RulesCorpus.class.getResourceAsStream(RESOURCE)) {
            this.rules = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Case file(String label, Expect expect, String culprit, byte[] bytes) {
        return new Case(label, expect, dir -> {
            Path f = Files.write(dir.resolve("rules.json"), bytes);
            return coverage(culprit != null ? List.of(culprit, f) : List.of(f), f);
        });
    }

    private static HostileInput.Invocation coverage(List<?> culprits, Path f) {
        return HostileInput.Invocation.anyOf(culprits, "coverage", "--model", "gpt2", "--tp", 2, "--strict", "--rules", f);
    }

    private Case file(String label, Expect expect, String culprit, String text) {
        return file(label, expect, culprit, text.getBytes(StandardCharsets.UTF_8));
    }

    /** The bundled rules with rule {@code index} edited (the refusal must name {@code culprit}, null: the file). */
    private Case rule(String label, Expect expect, String culprit, int index, Consumer<ObjectNode> edit) {
        ObjectNode root = JsonEdits.parse(rules);
        ObjectNode rule = (ObjectNode) root.get("rules").get(index);
        edit.accept(rule);
        return file(label, expect, culprit != null ? culprit : rule.path("name").asText(), root.toPrettyString());
    }

    private Case added(String label, String rule, String culprit) {
        ObjectNode root = JsonEdits.parse(rules);
        ((ArrayNode) root.get("rules")).add(JsonEdits.value(rule));
        return file(label, Expect.INVALID, culprit, root.toPrettyString());
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        cases.add(file("the bundled rules", Expect.VALID, null, rules));
        cases.add(rule("a catastrophic regex", Expect.INVALID, "mlp.fc", 2, r -> {
            r.remove("match");
            r.put("regex", CATASTROPHIC);
        }));
        cases.add(rule("an unknown role", Expect.INVALID, null, 0, r -> r.put("spec", "colum")));
        // the model declares c_attn's 3 fused blocks and its norms (rules.StructureCheck)
        cases.add(rule("stride 2 on a fused qkv", Expect.INVALID, null, 0, r -> r.put("stride", 2)));
        cases.add(rule("column on LayerNorms", Expect.INVALID, null, 6, r -> r.put("spec", "column")));
        cases.add(added("a dead rule", "{\"name\": \"dead\", \"match\": \"transformer.nothing\", \"spec\": \"replicate\"}", "dead"));
        cases.add(file("trailing garbage", Expect.INVALID, null, rules + " ]"));
        cases.add(file("not UTF-8", Expect.INVALID, null, FuzzAssets.notUtf8(rules, rules.indexOf("Megatron"))));
        cases.add(new Case("a FIFO", Expect.INVALID, dir -> coverage(List.of(dir.resolve("rules.json")),
                FuzzAssets.fifo(dir.resolve("rules.json")))));
        cases.add(new Case("a folder", Expect.INVALID, dir -> coverage(List.of(dir.resolve("rules.json")),
                Files.createDirectory(dir.resolve("rules.json")))));
        cases.add(file("compact", Expect.VALID, null, JsonEdits.parse(rules).toString()));
        cases.add(file("empty", Expect.INVALID, null, ""));
        cases.add(file("cut in half", Expect.INVALID, null, rules.substring(0, rules.length() / 2)));
        cases.add(file("a second object", Expect.INVALID, null, rules + rules));
        cases.add(rule("a regex that does not compile", Expect.INVALID, null, 2, r -> {
            r.remove("match");
            r.put("regex", "(transformer");
        }));
        cases.add(rule("vocab on LayerNorms", Expect.INVALID, null, 6, r -> r.put("spec", "vocab")));
        cases.add(rule("stride 0", Expect.INVALID, null, 0, r -> r.put("stride", 0)));
        cases.add(rule("stride -3", Expect.INVALID, null, 0, r -> r.put("stride", -3)));
        cases.add(rule("outputReplicate a string", Expect.INVALID, null, 0, r -> r.put("outputReplicate", "yes")));
        cases.add(rule("a parameter that does not exist", Expect.INVALID, null, 4, r -> ((ObjectNode) r.get("params")).put("weight2", "replicate")));
        cases.add(added("a conflicting rule", "{\"name\": \"twice\", \"match\": \"transformer.wpe\", \"spec\": \"column\"}", "twice"));
        cases.add(file("no rule for wte", Expect.INVALID, "transformer.wte", rules.replace("\"match\": \"transformer.wte\"",
                "\"match\": \"transformer.nowhere\"")));
        cases.add(file("default bogus", Expect.INVALID, "bogus", rules.replace("\"default\": \"error\"", "\"default\": \"bogus\"")));
        cases.add(file("rules an object", Expect.INVALID, null, JsonEdits.with(rules, "rules", "{}")));
        return cases;
    }

    @Override
    public Case random(SplittableRandom rng) {
        if (rng.nextInt(4) == 0) {
            return file("random damage", Expect.EITHER, null, JsonEdits.damage(rules.getBytes(StandardCharsets.UTF_8), rng));
        }
        int index = rng.nextInt(JsonEdits.parse(rules).get("rules").size());
        String field = FIELDS[rng.nextInt(FIELDS.length)];
        String value = JsonEdits.randomValue(rng);
        // the refusal may name the file or the rule: the rule is what every message about it names
        return rule(field + " " + value, Expect.EITHER, null, index, r -> r.set(field, JsonEdits.value(value)));
    }
}
