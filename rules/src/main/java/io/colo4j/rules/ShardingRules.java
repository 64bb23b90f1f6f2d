package io.colo4j.rules;

import io.colo4j.rules.Assignment.Status;
import io.colo4j.rules.Problem.Kind;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.SpecException;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A model family's sharding rules, read from JSON: which spec each parameter gets, by module path and
 * Megatron role. Planning ({@link #plan}) is pure and needs no ranks; {@link #apply} sets the specs
 * on a model built inside an {@link io.colo4j.tensor.colo.InitContext}.
 *
 * <pre>{@code
 * ShardingRules rules = ShardingRules.fromResource("/io/colo4j/zoo/gpt2/gpt2.rules.json");
 * ShardingPlan report = rules.plan(model, 4);      // coverage, conflicts, bytes per rank: no ranks needed
 * rules.apply(model);                              // on each rank, inside its InitContext
 * }</pre>
 *
 * <h2>File format</h2>
 * <pre>{@code
 * {
 *   "$schema": "https://colo4j.io/schemas/rules-1.schema.json",
 *   "model": "gpt2",
 *   "default": "error",
 *   "rules": [
 *     {"name": "attn.qkv", "match": "transformer.h.*.attn.c_attn", "spec": "column", "stride": 3, "outputReplicate": false},
 *     {"name": "attn.out", "match": "transformer.h.*.attn.c_proj", "spec": "row", "inputIsParallel": true},
 *     {"name": "wte", "match": "transformer.wte", "params": {"weight": {"spec": "vocab", "outputReplicate": false}}},
 *     {"name": "norms", "match": "**.ln_*", "spec": "replicate"}
 *   ]
 * }
 * }</pre>
 * <ul>
 *   <li>{@code default} (required): {@code replicate} or {@code error} for parameters no rule matches.</li>
 *   <li>{@code match}: a glob over whole module paths, anchored at the model root, or {@code regex}: an
 *       anchored Java regex. See {@link ModulePattern}: never substrings.</li>
 *   <li>{@code spec} with optional {@code stride}, {@code outputReplicate}, {@code inputIsParallel}: the
 *       same for every parameter of the module (key {@code "*"}); or {@code params}: per parameter key
 *       {@code weight}, {@code bias} or {@code *} (the module's other parameters), each a spec name or an
 *       object with those keys. Roles: see {@link Role}.</li>
 *   <li>{@code sequence_parallel} (optional, default false): Megatron's sequence parallelism; the row and
 *       vocab roles' compute specs then reduce-scatter their output along the tokens instead of all-reducing
 *       it ({@link io.colo4j.spec.ComputeSpec#sequenceParallel()}), so norms, dropout and residual adds run on
 *       1/tp of the tokens and each column-parallel input is all-gathered.</li>
 *   <li>{@code name}, {@code description}, {@code model}, {@code $schema}: documentation; names must be unique.</li>
 * </ul>
 * The JSON Schema is {@link #SCHEMA_RESOURCE} (see {@link #schema()}); reading is at least as strict as
 * the schema: unknown keys, unknown spec names, bad patterns and malformed JSON throw a
 * {@link RulesException} whose message starts with {@code file:line:column:}.
 *
 * <p>Immutable; {@link #strict(boolean)} returns a copy.
 */
public final class ShardingRules {
    /** The {@code $id} of the JSON Schema; shipped rules files name it in {@code $schema}. */
    public static final String SCHEMA_ID = "https://colo4j.io/schemas/rules-1.schema.json";
    /** The JSON Schema for rules files, on the classpath (in this module's jar). */
    public static final String SCHEMA_RESOURCE = "/io/colo4j/rules/rules.schema.json";

    private final String source;
    private final String model;
    private final String description;
    private final DefaultAction defaultAction;
    private final List<Rule> rules;
    private final boolean strict;
    private final boolean sequenceParallel;

    ShardingRules(String source, String model, String description, DefaultAction defaultAction, List<Rule> rules, boolean strict) {
        this(source, model, description, defaultAction, rules, strict, false);
    }

    ShardingRules(String source, String model, String description, DefaultAction defaultAction, List<Rule> rules, boolean strict,
                  boolean sequenceParallel) {
        this.sequenceParallel = sequenceParallel;
        this.source = source;
        this.model = model;
        this.description = description;
        this.defaultAction = Objects.requireNonNull(defaultAction, "defaultAction");
        this.rules = List.copyOf(rules);
        this.strict = strict;
    }

    /** Rules built in code (tests, programmatic plans). */
    public static ShardingRules of(String source, DefaultAction defaultAction, List<Rule> rules) {
        return new ShardingRules(source, null, null, defaultAction, rules, false);
    }

    /** Reads a rules file from any path; its path names it in messages. */
    public static ShardingRules fromJson(Path file) {
        String text;
        if (Files.exists(file) && !Files.isRegularFile(file)) { // a FIFO would block the read forever
            throw new RulesException("rules file " + file + " is not a regular file (a directory, FIFO or device)");
        }
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new RulesException("rules file " + file + " does not exist");
        } catch (CharacterCodingException e) {
            throw new RulesException("rules file " + file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new RulesException("cannot read rules file " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /**
     * Reads a rules file from the classpath: an absolute resource name such as
     * {@code /io/colo4j/zoo/gpt2/gpt2.rules.json} (the leading slash is optional). Messages name it
     * {@code classpath:/io/...}.
     */
    public static ShardingRules fromResource(String resource) {
        String absolute = resource.startsWith("/") ? resource : "/" + resource;
        return parse(readResource(absolute), "classpath:" + absolute);
    }

    /** Reads a rules file from the classpath, relative to {@code anchor}'s package unless it starts with '/'. */
    public static ShardingRules fromResource(Class<?> anchor, String resource) {
        String absolute = resource.startsWith("/") ? resource
                : "/" + anchor.getPackageName().replace('.', '/') + "/" + resource;
        try (InputStream in = anchor.getResourceAsStream(absolute)) {
            if (in == null) {
                throw new RulesException("rules resource " + absolute + " is not on the classpath");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "classpath:" + absolute);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads rules from JSON text; {@code source} names it in messages (a path, {@code <inline>}, ...). */
    public static ShardingRules parse(String json, String source) {
        return RulesReader.read(json, source);
    }

    /** The JSON Schema (draft 2020-12) for rules files. */
    public static String schema() {
        return readResource(SCHEMA_RESOURCE);
    }

    private static String readResource(String absolute) {
        try (InputStream in = ShardingRules.class.getResourceAsStream(absolute)) {
            if (in == null) {
                throw new RulesException("rules resource " + absolute + " is not on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A copy that is strict or not. Strict: parameters no rule matches, rules that match nothing and
     * rule entries no parameter uses are errors, not warnings.
     */
    public ShardingRules strict(boolean on) {
        return new ShardingRules(source, model, description, defaultAction, rules, on, sequenceParallel);
    }

    /** A copy with sequence parallelism on or off (what {@code --sequence-parallel} does to a family's rules). */
    public ShardingRules withSequenceParallel(boolean on) {
        return new ShardingRules(source, model, description, defaultAction, rules, strict, on);
    }

    /** Whether the rules ask for sequence parallelism (the file's {@code "sequence_parallel"}). */
    public boolean sequenceParallel() {
        return sequenceParallel;
    }

    public boolean isStrict() {
        return strict;
    }

    /** Where the rules came from: a path, {@code classpath:/...}, or the name given to {@link #parse}. */
    public String source() {
        return source;
    }

    /** The model family the file says it is for, if it says. */
    public Optional<String> model() {
        return Optional.ofNullable(model);
    }

    public Optional<String> description() {
        return Optional.ofNullable(description);
    }

    public DefaultAction defaultAction() {
        return defaultAction;
    }

    public List<Rule> rules() {
        return rules;
    }

    /**
     * Works out every parameter's spec at tensor-parallel degree {@code tp} without touching the model
     * (no parameter is materialised or respecified): the coverage report. Problems are collected, not
     * thrown; see {@link ShardingPlan#errors()} and {@link ShardingPlan#requireOk()}.
     */
    public ShardingPlan plan(Module model, int tp) {
        if (tp < 1) {
            throw new IllegalArgumentException("tp must be >= 1, got " + tp);
        }
        Map<String, Module> modules = model.namedModules();
        Map<String, Parameter> parameters = model.namedParameters();
        Map<String, List<Rule>> rulesByModule = new LinkedHashMap<>();
        Map<Rule, Integer> uses = new IdentityHashMap<>();
        Map<Rule, Set<String>> usedKeys = new IdentityHashMap<>();
        Map<Rule, Integer> modulesMatched = new IdentityHashMap<>();
        for (Rule r : rules) {
            uses.put(r, 0);
            usedKeys.put(r, new LinkedHashSet<>());
            modulesMatched.put(r, 0);
        }
        for (String path : modules.keySet()) {
            List<Rule> matching = new ArrayList<>();
            for (Rule r : rules) {
                if (matches(r, path)) {
                    matching.add(r);
                    modulesMatched.merge(r, 1, Integer::sum);
                }
            }
            rulesByModule.put(path, matching);
        }

        List<Assignment> assignments = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        Grouped grouped = new Grouped();
        parameters.forEach((path, p) -> {
            int dot = path.lastIndexOf('.');
            String modulePath = dot < 0 ? "" : path.substring(0, dot);
            String local = path.substring(dot + 1);
            Module module = modules.get(modulePath);
            WeightLayout layout = module instanceof WeightLayout.Aware aware ? aware.weightLayout() : null;
            int[] shape = p.fullShape();
            List<Rule> matching = new ArrayList<>();
            for (Rule r : rulesByModule.getOrDefault(modulePath, List.of())) {
                String key = r.keyFor(local);
                if (key != null) {
                    matching.add(r);
                    uses.merge(r, 1, Integer::sum);
                    usedKeys.get(r).add(key);
                }
            }
            if (matching.size() > 1) {
                problems.add(new Problem(Kind.CONFLICT, true, "parameter " + path + " " + RoleMapping.shapeOf(shape)
                        + " is matched by " + matching.size() + " rules: "
                        + matching.stream().map(Rule::describe).collect(Collectors.joining(" and ")), path, matching));
                assignments.add(new Assignment(path, modulePath, local, shape, layout, null, null, null,
                        Status.CONFLICT, RoleMapping.Resolved.whole(null, shape)));
                return;
            }
            if (matching.isEmpty()) {
                boolean replicate = defaultAction == DefaultAction.REPLICATE;
                problems.add(new Problem(Kind.UNMATCHED, !replicate || strict, "parameter " + path + " "
                        + RoleMapping.shapeOf(shape) + " is matched by no rule" + (replicate
                                ? " (replicated by \"default\": \"replicate\")" : " and the rules say \"default\": \"error\""),
                        path, List.of()));
                assignments.add(new Assignment(path, modulePath, local, shape, layout, null, null, null,
                        replicate ? Status.DEFAULT : Status.UNMATCHED,
                        RoleMapping.Resolved.whole(replicate ? DistSpec.replicate() : null, shape)));
                return;
            }
            Rule rule = matching.get(0);
            String key = rule.keyFor(local);
            ParamRule entry = rule.params().get(key);
            if (layout == null && RoleMapping.needsLayout(entry.role(), shape.length)) {
                String type = module == null ? "?" : module.getClass().getSimpleName();
                grouped.add(Kind.MISSING_LAYOUT, rule.name() + "\u0000" + type, path, modulePath, rule, () -> rule.describe()
                        + " gives " + entry.role().wireName() + " to module '" + modulePath + "' (" + type + "), which does not"
                        + " declare its weight layout: " + type + " must implement WeightLayout.Aware so that "
                        + entry.role().wireName() + " maps to a dim of " + path + " " + RoleMapping.shapeOf(shape));
                assignments.add(new Assignment(path, modulePath, local, shape, null, rule, key, entry, Status.INVALID,
                        RoleMapping.Resolved.whole(null, shape)));
                return;
            }
            try {
                RoleMapping.Resolved r = RoleMapping.resolve(entry, key.equals("*"), shape, layout, tp);
                if (sequenceParallel && r.compute() != null && (entry.role() == Role.ROW || entry.role() == Role.VOCAB)) {
                    r = new RoleMapping.Resolved(r.placed(), r.compute().withSequenceParallel(true), r.padToDivide());
                }
                try {
                    p.checkSplitUnits(r.placed().spec(), r.placed().globalShape(), tp);
                } catch (IllegalArgumentException e) {
                    throw new RoleMapping.CannotApply(e.getMessage());
                }
                StructureCheck.check(entry.role(), module, p, r.placed().spec());
                assignments.add(new Assignment(path, modulePath, local, shape, layout, rule, key, entry, Status.RULE, r));
            } catch (RoleMapping.CannotApply e) {
                grouped.add(Kind.INVALID_SPEC, rule.name() + "\u0000" + key + "\u0000" + RoleMapping.shapeOf(shape) + "\u0000"
                        + e.getMessage(), path, path, rule, () -> rule.describe() + " cannot apply " + entry.describe() + " to "
                        + path + " " + RoleMapping.shapeOf(shape) + " at tp=" + tp + ": " + e.getMessage());
                assignments.add(new Assignment(path, modulePath, local, shape, layout, rule, key, entry, Status.INVALID,
                        RoleMapping.Resolved.whole(null, shape)));
            }
        });

        problems.addAll(grouped.problems());
        List<Rule> dead = new ArrayList<>();
        for (Rule r : rules) {
            if (uses.get(r) == 0) {
                dead.add(r);
                int m = modulesMatched.get(r);
                String tied = tiedElsewhere(r, modules, parameters);
                problems.add(new Problem(Kind.DEAD_RULE, strict, r.describe() + " matches no parameter"
                        + (m == 0 ? " (no module path matches '" + r.pattern().text() + "')"
                                : tied != null ? " (" + tied + ")"
                                : " (it matches " + m + " module(s), none with a parameter named " + r.params().keySet() + ")"),
                        null, List.of(r)));
            } else {
                for (String key : r.params().keySet()) {
                    if (!usedKeys.get(r).contains(key)) {
                        problems.add(new Problem(Kind.DEAD_ENTRY, strict, r.describe() + ": its entry '" + key
                                + "' applies to no parameter of the " + modulesMatched.get(r) + " module(s) it matches",
                                null, List.of(r)));
                    }
                }
            }
        }
        return new ShardingPlan(this, tp, assignments, problems, dead);
    }

    /** Whether {@code r} matches module {@code path}; a regex that exhausts its budget is refused naming the rule. */
    private static boolean matches(Rule r, String path) {
        try {
            return r.pattern().matches(path);
        } catch (ModulePattern.PatternException e) {
            String message = "rule '" + r.name() + "': " + e.getMessage();
            throw r.location() == null ? new RulesException(message) : new RulesException(r.location(), message, e);
        }
    }

    /**
     * Why a rule whose modules do hold matching parameters matched none: they are shared (tied) with
     * another module, and a shared parameter is planned once, under the first path that reaches it.
     */
    private static String tiedElsewhere(Rule r, Map<String, Module> modules, Map<String, Parameter> parameters) {
        Map<Parameter, String> firstPath = new IdentityHashMap<>();
        parameters.forEach((path, p) -> firstPath.put(p, path));
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            if (!r.pattern().matches(e.getKey())) {
                continue;
            }
            for (Map.Entry<String, Parameter> local : e.getValue().localParameters().entrySet()) {
                if (r.keyFor(local.getKey()) != null) {
                    String own = e.getKey().isEmpty() ? local.getKey() : e.getKey() + "." + local.getKey();
                    return own + " is the parameter " + firstPath.get(local.getValue()) + " (tied); shared parameters are"
                            + " planned once, under their first path: write the rule for that one";
                }
            }
        }
        return null;
    }

    /**
     * Errors that repeat layer after layer (a Conv1D without a layout, a dim tp does not divide) are
     * reported once per rule and kind of parameter, naming the first and counting the rest, so that a
     * 48-layer model does not print 192 copies.
     */
    private static final class Grouped {
        private record Group(Kind kind, String message, String parameter, Rule rule, List<String> others) {}

        private final Map<String, Group> groups = new LinkedHashMap<>();

        void add(Kind kind, String key, String parameter, String what, Rule rule, java.util.function.Supplier<String> message) {
            Group g = groups.get(kind + "\u0000" + key);
            if (g == null) {
                groups.put(kind + "\u0000" + key, new Group(kind, message.get(), parameter, rule, new ArrayList<>()));
            } else {
                g.others().add(what);
            }
        }

        List<Problem> problems() {
            List<Problem> out = new ArrayList<>();
            for (Group g : groups.values()) {
                String more = "";
                if (!g.others().isEmpty()) {
                    int n = g.others().size();
                    more = " (the same for " + n + " more: " + String.join(", ", g.others().subList(0, Math.min(n, 3)))
                            + (n > 3 ? ", ..." : "") + ")";
                }
                out.add(new Problem(g.kind(), true, g.message() + more, g.parameter(), List.of(g.rule())));
            }
            return out;
        }
    }

    /**
     * Plans at the model's tp degree and sets every parameter's spec. The parameters must be
     * {@link ColoParameter}s (the model built inside an {@link io.colo4j.tensor.colo.InitContext}). Fails
     * before changing anything when the plan has errors (a {@link RulesException} listing them all), or when
     * another rule set already laid out one of the parameters (naming it and that rule set's source). Its
     * warnings (parameters no rule matched, left replicated) are logged once, by the world's first rank.
     */
    public ShardingPlan apply(Module model) {
        Map<String, Parameter> parameters = model.namedParameters();
        int tp = -1;
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            if (!(e.getValue() instanceof ColoParameter c)) {
                throw new RulesException("cannot apply " + source + ": parameter " + e.getKey() + " is a plain "
                        + e.getValue().getClass().getSimpleName() + ", not a ColoParameter; build the model inside an InitContext");
            }
            int size = c.context().tpSize();
            if (tp >= 0 && size != tp) {
                throw new RulesException("cannot apply " + source + ": parameters live on tp groups of different sizes ("
                        + tp + " and " + size + " for " + e.getKey() + ")");
            }
            tp = size;
        }
        if (tp < 0) {
            tp = 1;
        }
        AppliedRules.requireNoOther(this, parameters);
        ShardingPlan plan = plan(model, tp).requireOk();
        for (Assignment a : plan.assignments()) {
            ColoParameter c = (ColoParameter) parameters.get(a.parameter());
            if (c.spec().equals(a.spec()) && Objects.equals(c.computeSpec(), a.compute()) && !a.padToDivide()) {
                continue; // already so (e.g. replicated, the initial state): nothing to move
            }
            try {
                c.setSpec(a.spec(), a.compute(), a.padToDivide());
            } catch (SpecException | IllegalStateException e) {
                String by = a.rule() == null ? "the default" : a.rule().describe();
                throw new RulesException("cannot apply " + by + " to " + a.parameter() + " "
                        + RoleMapping.shapeOf(a.shape()) + " at tp=" + tp + ": " + e.getMessage());
            }
        }
        for (Assignment a : plan.assignments()) {
            // Megatron's sequence_parallel attribute: a replicated parameter's gradient shares are summed after backward
            ((ColoParameter) parameters.get(a.parameter())).setSequenceParallel(sequenceParallel && a.spec() instanceof io.colo4j.spec.ReplicaSpec);
        }
        AppliedRules.record(this, parameters.values());
        ApplyWarnings.report(this, plan, parameters.values());
        return plan;
    }

    @Override
    public String toString() {
        return "ShardingRules(" + source + ", " + rules.size() + " rules, default " + defaultAction.wireName()
                + (strict ? ", strict" : "") + (sequenceParallel ? ", sequence parallel" : "") + ")";
    }
}
