package io.colo4j.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.rules.Assignment.Status;
import io.colo4j.rules.Problem.Kind;
import io.colo4j.spec.json.SpecJson;
import io.colo4j.tensor.Shapes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The report of planning a model with a set of rules at one tp degree: for each parameter the rule
 * that matched and the resulting spec; parameters no rule matched; parameters two or more rules
 * matched; rules that matched nothing; bytes each rank holds, sharded and replicated. Computed
 * without touching the model ({@link ShardingRules#plan}); {@link ShardingRules#apply} returns the
 * plan it applied.
 */
public final class ShardingPlan {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int MAX_LISTED_ERRORS = 20;

    private final ShardingRules rules;
    private final int tp;
    private final List<Assignment> assignments;
    private final List<Problem> problems;
    private final List<Rule> deadRules;

    ShardingPlan(ShardingRules rules, int tp, List<Assignment> assignments, List<Problem> problems, List<Rule> deadRules) {
        this.rules = rules;
        this.tp = tp;
        this.assignments = List.copyOf(assignments);
        this.problems = List.copyOf(problems);
        this.deadRules = List.copyOf(deadRules);
    }

    public ShardingRules rules() {
        return rules;
    }

    public int tp() {
        return tp;
    }

    public boolean strict() {
        return rules.isStrict();
    }

    /** One per parameter, in the model's parameter order. */
    public List<Assignment> assignments() {
        return assignments;
    }

    public Optional<Assignment> assignment(String parameter) {
        return assignments.stream().filter(a -> a.parameter().equals(parameter)).findFirst();
    }

    /** Parameters no rule matched (replicated by the default, or errors). */
    public List<Assignment> unmatched() {
        return assignments.stream().filter(a -> a.status() == Status.DEFAULT || a.status() == Status.UNMATCHED).toList();
    }

    /** Parameters matched by two or more rules; each problem names the parameter and the rules. */
    public List<Problem> conflicts() {
        return problems(Kind.CONFLICT);
    }

    /** Rules that matched no parameter. */
    public List<Rule> deadRules() {
        return deadRules;
    }

    public List<Problem> problems() {
        return problems;
    }

    public List<Problem> problems(Kind kind) {
        return problems.stream().filter(p -> p.kind() == kind).toList();
    }

    public List<Problem> errors() {
        return problems.stream().filter(Problem::error).toList();
    }

    public List<Problem> warnings() {
        return problems.stream().filter(p -> !p.error()).toList();
    }

    /** No errors: {@link ShardingRules#apply} would go ahead. */
    public boolean ok() {
        return problems.stream().noneMatch(Problem::error);
    }

    /**
     * Full coverage: every parameter matched by exactly one rule whose spec applies, every rule and
     * rule entry used, nothing else wrong.
     */
    public boolean complete() {
        return problems.isEmpty() && assignments.stream().allMatch(Assignment::covered);
    }

    /** Throws a {@link RulesException} listing the errors, if any; returns this plan otherwise. */
    public ShardingPlan requireOk() {
        List<Problem> errors = errors();
        if (!errors.isEmpty()) {
            StringBuilder msg = new StringBuilder("rules ").append(rules.source()).append(" at tp=").append(tp)
                    .append(": ").append(errors.size()).append(errors.size() == 1 ? " error" : " errors");
            errors.stream().limit(MAX_LISTED_ERRORS).forEach(p -> msg.append("\n  ").append(p.message()));
            if (errors.size() > MAX_LISTED_ERRORS) {
                msg.append("\n  ... and ").append(errors.size() - MAX_LISTED_ERRORS).append(" more");
            }
            throw new RulesException(msg.toString());
        }
        return this;
    }

    public int parameterCount() {
        return assignments.size();
    }

    /** Parameters matched by exactly one rule whose spec applies. */
    public int coveredCount() {
        return (int) assignments.stream().filter(Assignment::covered).count();
    }

    /** Bytes each rank holds for parameters the plan shards (padding included). */
    public long shardedBytesPerRank() {
        return assignments.stream().filter(Assignment::sharded).mapToLong(Assignment::bytesPerRank).sum();
    }

    /** Bytes each rank holds for parameters the plan replicates (or could not decide). */
    public long replicatedBytesPerRank() {
        return assignments.stream().filter(a -> !a.sharded()).mapToLong(Assignment::bytesPerRank).sum();
    }

    public long bytesPerRank() {
        return shardedBytesPerRank() + replicatedBytesPerRank();
    }

    /** Bytes of the serial model's parameters. */
    public long serialBytes() {
        return assignments.stream().mapToLong(Assignment::serialBytes).sum();
    }

    // ---- rendering -----------------------------------------------------------------------------

    /** The report as a text table, one row per parameter, then the totals and problems. */
    public String table() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"parameter", "shape", "rule", "as", "spec", "compute", "per rank", "bytes/rank"});
        for (Assignment a : assignments) {
            rows.add(new String[] {
                a.parameter(),
                Shapes.format(a.shape()),
                switch (a.status()) {
                    case RULE, INVALID -> a.rule().name();
                    case DEFAULT -> "(default)";
                    case UNMATCHED -> "(none)";
                    case CONFLICT -> "(conflict)";
                },
                a.entry() == null ? "-" : a.entry().describe(),
                a.status() == Status.INVALID ? "(invalid)" : a.describeSpec(),
                a.describeCompute(),
                a.spec() == null ? "-" : Shapes.format(a.localShape()),
                a.spec() == null ? "-" : formatBytes(a.bytesPerRank())
            });
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("rules: ").append(rules.source()).append(" (").append(rules.rules().size()).append(" rules, default ")
                .append(rules.defaultAction().wireName()).append(rules.isStrict() ? ", strict" : "").append("), tp = ")
                .append(tp).append('\n').append('\n');
        for (int r = 0; r < rows.size(); r++) {
            String[] row = rows.get(r);
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                boolean right = i == row.length - 1;
                String cell = right ? " ".repeat(widths[i] - row[i].length()) + row[i]
                        : row[i] + " ".repeat(widths[i] - row[i].length());
                line.append(cell).append(i == row.length - 1 ? "" : "  ");
            }
            out.append(line.toString().stripTrailing()).append('\n');
            if (r == 0) {
                int total = 0;
                for (int w : widths) {
                    total += w;
                }
                out.append("-".repeat(total + 2 * (widths.length - 1))).append('\n');
            }
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT, "parameters: %d, covered by a rule: %d (%.1f%%), unmatched: %d, conflicts: %d,"
                        + " dead rules: %d%n", parameterCount(), coveredCount(),
                parameterCount() == 0 ? 100.0 : 100.0 * coveredCount() / parameterCount(), unmatched().size(),
                conflicts().size(), deadRules.size()));
        out.append(String.format(Locale.ROOT, "bytes per rank: sharded %s, replicated %s, total %s (serial %s)%n",
                formatBytes(shardedBytesPerRank()), formatBytes(replicatedBytesPerRank()), formatBytes(bytesPerRank()),
                formatBytes(serialBytes())));
        for (Problem p : problems) {
            out.append(p).append('\n');
        }
        out.append("coverage: ").append(complete() ? "complete" : "INCOMPLETE")
                .append(ok() ? "" : " (" + errors().size() + (errors().size() == 1 ? " error)" : " errors)")).append('\n');
        return out.toString();
    }

    /** The report as a JSON tree; {@link #json()} prints it. */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("rules", rules.source());
        rules.model().ifPresent(m -> root.put("rulesModel", m));
        root.put("default", rules.defaultAction().wireName());
        root.put("strict", rules.isStrict());
        root.put("tp", tp);
        root.put("complete", complete());
        root.put("ok", ok());
        root.put("parameterCount", parameterCount());
        root.put("coveredCount", coveredCount());
        ObjectNode bytes = root.putObject("bytes");
        bytes.put("shardedPerRank", shardedBytesPerRank());
        bytes.put("replicatedPerRank", replicatedBytesPerRank());
        bytes.put("totalPerRank", bytesPerRank());
        bytes.put("serial", serialBytes());
        ArrayNode params = root.putArray("parameters");
        for (Assignment a : assignments) {
            ObjectNode p = params.addObject();
            p.put("name", a.parameter());
            p.put("module", a.module());
            shape(p.putArray("shape"), a.shape());
            if (a.layout() != null) {
                p.put("layout", a.layout().name());
            } else {
                p.putNull("layout");
            }
            p.put("status", a.status().name().toLowerCase(Locale.ROOT));
            if (a.rule() != null) {
                p.put("rule", a.rule().name());
                p.put("ruleLocation", a.rule().location().toString());
                p.put("key", a.key());
                p.put("role", a.entry().role().wireName());
                if (a.entry().stride() != 1) {
                    p.put("stride", a.entry().stride());
                }
                if (a.entry().inputIsParallel() != null) {
                    p.put("inputIsParallel", a.entry().inputIsParallel());
                }
            } else {
                p.putNull("rule");
            }
            if (a.spec() != null) {
                p.set("spec", SpecJson.mapper().valueToTree(a.spec()));
                if (a.compute() != null) {
                    p.set("compute", SpecJson.mapper().valueToTree(a.compute()));
                } else {
                    p.putNull("compute");
                }
                p.put("padToDivide", a.padToDivide());
                shape(p.putArray("globalShape"), a.globalShape());
                shape(p.putArray("localShape"), a.localShape());
                p.put("bytesPerRank", a.bytesPerRank());
            } else {
                p.putNull("spec");
            }
        }
        ArrayNode unmatched = root.putArray("unmatched");
        unmatched().forEach(a -> unmatched.add(a.parameter()));
        ArrayNode conflicts = root.putArray("conflicts");
        for (Problem c : conflicts()) {
            ObjectNode o = conflicts.addObject();
            o.put("parameter", c.parameter());
            ArrayNode names = o.putArray("rules");
            c.rules().forEach(r -> names.add(r.name()));
        }
        ArrayNode dead = root.putArray("deadRules");
        deadRules.forEach(r -> dead.add(r.name()));
        ArrayNode errors = root.putArray("errors");
        errors().forEach(p -> errors.add(p.message()));
        ArrayNode warnings = root.putArray("warnings");
        warnings().forEach(p -> warnings.add(p.message()));
        return root;
    }

    public String json() {
        return json(toJson());
    }

    /** Pretty-prints a report tree (e.g. {@link #toJson()} with fields added by the caller). */
    public static String json(ObjectNode tree) {
        try {
            return JSON.writeValueAsString(tree) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void shape(ArrayNode out, int[] shape) {
        for (int s : shape) {
            out.add(s);
        }
    }

    /** 1.5 KiB, 77.2 MiB, 3.00 GiB. */
    static String formatBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    @Override
    public String toString() {
        return "ShardingPlan(" + rules.source() + ", tp=" + tp + ", " + coveredCount() + "/" + parameterCount()
                + " covered, " + errors().size() + " errors, " + warnings().size() + " warnings)";
    }
}
