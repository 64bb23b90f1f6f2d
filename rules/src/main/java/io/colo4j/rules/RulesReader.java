package io.colo4j.rules;

import io.colo4j.rules.LocatedJson.Arr;
import io.colo4j.rules.LocatedJson.Bool;
import io.colo4j.rules.LocatedJson.Field;
import io.colo4j.rules.LocatedJson.Node;
import io.colo4j.rules.LocatedJson.Num;
import io.colo4j.rules.LocatedJson.Obj;
import io.colo4j.rules.LocatedJson.Str;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads a rules document into {@link ShardingRules}, rejecting anything the schema would, with locations. */
final class RulesReader {
    static final Set<String> TOP_KEYS = Set.of("$schema", "model", "description", "default", "rules",
            "sequence_parallel");
    static final Set<String> RULE_KEYS = Set.of("name", "description", "match", "regex", "spec", "stride",
            "outputReplicate", "inputIsParallel", "params");
    static final Set<String> ENTRY_KEYS = Set.of("spec", "stride", "outputReplicate", "inputIsParallel");
    private static final int MAX_STRIDE = 1 << 16;

    private RulesReader() {}

    static ShardingRules read(String text, String source) {
        Node root = LocatedJson.parse(text, source);
        Obj top = object(root, "the rules file");
        checkKeys(top, TOP_KEYS, "the rules file");
        String model = optionalString(top, "model", "the rules file");
        String description = optionalString(top, "description", "the rules file");
        optionalString(top, "$schema", "the rules file");
        Boolean sequenceParallel = bool(top, "sequence_parallel", "the rules file");
        Field def = required(top, "default", "the rules file", "'replicate' or 'error'");
        String defName = string(def.value(), "'default'");
        DefaultAction action = DefaultAction.fromWireName(defName);
        if (action == null) {
            throw new RulesException(def.value().location(), "unknown default '" + defName
                    + "'; expected 'replicate' or 'error'");
        }
        Field rulesField = required(top, "rules", "the rules file", "an array of rules");
        if (!(rulesField.value() instanceof Arr arr)) {
            throw new RulesException(rulesField.value().location(), "'rules' must be an array, got "
                    + rulesField.value().kind());
        }
        List<Rule> rules = new ArrayList<>();
        Map<String, Rule> byName = new HashMap<>();
        for (int i = 0; i < arr.items().size(); i++) {
            Rule rule = rule(arr.items().get(i), i);
            boolean named = arr.items().get(i) instanceof Obj o && o.fields().containsKey("name");
            Rule previous = named ? byName.putIfAbsent(rule.name(), rule) : null;
            if (previous != null) {
                throw new RulesException(rule.location(), "rules[" + i + "]: a rule named '" + rule.name()
                        + "' already exists at " + previous.location() + "; rule names must be unique");
            }
            rules.add(rule);
        }
        return new ShardingRules(source, model, description, action, rules, false,
                sequenceParallel != null && sequenceParallel);
    }

    private static Rule rule(Node node, int index) {
        String where = "rules[" + index + "]";
        Obj o = object(node, where);
        Field nameField = o.fields().get("name");
        String name = null;
        if (nameField != null) {
            name = string(nameField.value(), where + ".name");
            if (name.isBlank()) {
                throw new RulesException(nameField.value().location(), where + ": 'name' is empty");
            }
            where = where + " ('" + name + "')";
        }
        checkKeys(o, RULE_KEYS, where);
        optionalString(o, "description", where);
        Field match = o.fields().get("match");
        Field regex = o.fields().get("regex");
        if ((match == null) == (regex == null)) {
            throw new RulesException(match != null ? regex.keyLocation() : o.location(), where
                    + ": needs exactly one of 'match' (a glob of module path segments) and 'regex'");
        }
        ModulePattern pattern;
        Field patternField = match != null ? match : regex;
        String text = string(patternField.value(), where + "." + patternField.key());
        try {
            pattern = match != null ? ModulePattern.glob(text) : ModulePattern.regex(text);
        } catch (ModulePattern.PatternException e) {
            // +1: the column is the opening quote's.
            throw new RulesException(patternField.value().location().plusColumns(1 + e.index()),
                    where + ": " + e.getMessage(), e);
        }
        if (name == null) {
            name = text;
        }
        Map<String, ParamRule> params = new LinkedHashMap<>();
        Field spec = o.fields().get("spec");
        Field paramsField = o.fields().get("params");
        if ((spec == null) == (paramsField == null)) {
            throw new RulesException(spec != null ? paramsField.keyLocation() : o.location(), where
                    + ": needs exactly one of 'spec' (for every parameter of the matched modules) and 'params'"
                    + " (per parameter: weight, bias, *)");
        }
        if (spec != null) {
            params.put("*", entry(o, where, true));
        } else {
            for (String hint : List.of("stride", "outputReplicate", "inputIsParallel")) {
                Field f = o.fields().get(hint);
                if (f != null) {
                    throw new RulesException(f.keyLocation(), where + ": '" + hint
                            + "' goes inside a 'params' entry when the rule has 'params'");
                }
            }
            Obj p = object(paramsField.value(), where + ".params");
            if (p.fields().isEmpty()) {
                throw new RulesException(p.location(), where + ".params is empty: give weight, bias or *");
            }
            for (Field f : p.fields().values()) {
                if (!Rule.PARAM_KEYS.contains(f.key())) {
                    throw new RulesException(f.keyLocation(), where + ".params: unknown parameter key '" + f.key()
                            + "'; expected 'weight', 'bias' or '*'" + suggestion(f.key(), Rule.PARAM_KEYS));
                }
                String entryWhere = where + ".params." + f.key();
                if (f.value() instanceof Str s) {
                    params.put(f.key(), new ParamRule(role(s, entryWhere), 1, null, null, s.location()));
                } else {
                    Obj e = object(f.value(), entryWhere + " (a spec name or an object)");
                    checkKeys(e, ENTRY_KEYS, entryWhere);
                    required(e, "spec", entryWhere, Role.wireNames());
                    params.put(f.key(), entry(e, entryWhere, false));
                }
            }
        }
        return new Rule(index, name, pattern, params, o.location());
    }

    /** A spec and its hints, from a params entry object or from the rule object itself. */
    private static ParamRule entry(Obj o, String where, boolean ruleLevel) {
        Field specField = o.fields().get("spec");
        Role role = role(specField.value(), where);
        int stride = 1;
        Field strideField = o.fields().get("stride");
        if (strideField != null) {
            if (!(strideField.value() instanceof Num n) || !n.integral() || n.value().longValue() < 1
                    || n.value().longValue() > MAX_STRIDE) {
                throw new RulesException(strideField.value().location(), where + ": 'stride' must be an integer"
                        + " >= 1 (fused qkv = 3, fused kv = 2), got " + show(strideField.value()));
            }
            stride = n.value().intValue();
            if (role != Role.COLUMN && stride != 1) {
                throw new RulesException(strideField.keyLocation(), where + ": 'stride' applies only to column,"
                        + " not " + role.wireName());
            }
        }
        Boolean outputReplicate = bool(o, "outputReplicate", where);
        if (outputReplicate != null && role == Role.REPLICATE) {
            throw new RulesException(o.fields().get("outputReplicate").keyLocation(), where
                    + ": 'outputReplicate' does not apply to replicate");
        }
        Boolean inputIsParallel = bool(o, "inputIsParallel", where);
        if (inputIsParallel != null && role != Role.ROW) {
            throw new RulesException(o.fields().get("inputIsParallel").keyLocation(), where
                    + ": 'inputIsParallel' applies only to row, not " + role.wireName());
        }
        return new ParamRule(role, stride, outputReplicate, inputIsParallel, ruleLevel ? specField.value().location() : o.location());
    }

    private static Role role(Node node, String where) {
        String name = string(node, where + ".spec");
        Role role = Role.fromWireName(name);
        if (role == null) {
            java.util.Set<String> names = new java.util.LinkedHashSet<>();
            for (Role r : Role.values()) {
                names.add(r.wireName());
            }
            throw new RulesException(node.location(), where + ": unknown spec '" + name + "'; expected one of "
                    + Role.wireNames() + suggestion(name, names));
        }
        return role;
    }

    private static Boolean bool(Obj o, String key, String where) {
        Field f = o.fields().get(key);
        if (f == null) {
            return null;
        }
        if (!(f.value() instanceof Bool b)) {
            throw new RulesException(f.value().location(), where + ": '" + key + "' must be true or false, got "
                    + show(f.value()));
        }
        return b.value();
    }

    private static Obj object(Node node, String what) {
        if (!(node instanceof Obj o)) {
            throw new RulesException(node.location(), what + " must be an object, got " + node.kind());
        }
        return o;
    }

    private static String string(Node node, String what) {
        if (!(node instanceof Str s)) {
            throw new RulesException(node.location(), what + " must be a string, got " + show(node));
        }
        return s.value();
    }

    private static String optionalString(Obj o, String key, String where) {
        Field f = o.fields().get(key);
        return f == null ? null : string(f.value(), where + ": '" + key + "'");
    }

    private static Field required(Obj o, String key, String where, String expected) {
        Field f = o.fields().get(key);
        if (f == null) {
            throw new RulesException(o.location(), where + ": missing required key '" + key + "' (" + expected + ")");
        }
        return f;
    }

    private static void checkKeys(Obj o, Set<String> allowed, String where) {
        for (Field f : o.fields().values()) {
            if (!allowed.contains(f.key())) {
                throw new RulesException(f.keyLocation(), where + ": unknown key '" + f.key() + "'; expected one of "
                        + new java.util.TreeSet<>(allowed) + suggestion(f.key(), allowed));
            }
        }
    }

    private static String show(Node node) {
        return switch (node) {
            case Str s -> "the string \"" + s.value() + "\"";
            case Num n -> n.text();
            case Bool b -> Boolean.toString(b.value());
            default -> node.kind();
        };
    }

    /** " (did you mean 'stride'?)" when a known key is within two edits of the unknown one. */
    static String suggestion(String unknown, Set<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : new java.util.TreeSet<>(known)) {
            int d = distance(unknown.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
