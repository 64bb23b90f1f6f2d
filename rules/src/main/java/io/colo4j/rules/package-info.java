/**
 * Sharding rules: which tensor-parallel spec each parameter of a model family gets, written once per
 * family as JSON and shipped next to the model (GPT-2's is {@code io/colo4j/zoo/gpt2/gpt2.rules.json}).
 *
 * <pre>{@code
 * ShardingRules rules = ShardingRules.fromResource("/io/colo4j/zoo/gpt2/gpt2.rules.json"); // or fromJson(path)
 * ShardingPlan report = rules.strict(true).plan(model, 4);  // pure: coverage without ranks
 * System.out.print(report.table());                         // or report.json()
 * rules.apply(model);                                       // each rank, model built inside an InitContext
 * }</pre>
 *
 * <h2>Matching</h2>
 * Rules match <em>module</em> paths, the dotted HF-style names of
 * {@link io.colo4j.tensor.nn.Module#namedModules()}, <b>anchored at the model root</b>: the GPT-2 file
 * says {@code transformer.h.*.mlp.c_fc}, not {@code h.*.mlp.c_fc}. A pattern never matches a substring
 * or a suffix of a path; to match at any depth say so with {@code **} ({@code **.ln_*}). Globs:
 * {@code *} is one whole segment, {@code **} any number of segments (including none), {@code *} inside
 * a segment any characters within it ({@code ln_*}), {@code {a,b}} alternatives ({@code {attn,mlp}});
 * {@code "regex"} takes an anchored Java regex for anything else. See {@link io.colo4j.rules.ModulePattern}.
 * A parameter is matched by a rule when the rule matches its module and has an entry for its name
 * ({@code weight}, {@code bias}) or {@code *}. Two rules matching one parameter is always an error
 * naming both: rules never silently override each other, so their order does not matter.
 *
 * <h2>Roles</h2>
 * {@code column}, {@code row}, {@code vocab}, {@code replicate}: Megatron roles, mapped onto physical
 * dims by the module's {@link io.colo4j.tensor.nn.WeightLayout} (so one rule fits torch Linear
 * [out, in] and HF Conv1D [in, out]); see {@link io.colo4j.rules.Role}. A column/row rule on a 2-d
 * weight of a module that does not implement {@link io.colo4j.tensor.nn.WeightLayout.Aware} is an
 * error naming the rule and the module.
 *
 * <h2>Report</h2>
 * {@link io.colo4j.rules.ShardingPlan}: per parameter the rule and resulting spec; unmatched
 * parameters (replicated or an error, as the file's required {@code "default"} says); conflicts; dead
 * rules (warnings, errors in strict mode); specs that cannot apply (errors naming rule, parameter,
 * shape and tp); bytes per rank sharded and replicated. {@code bin/colo4j coverage} prints it.
 *
 * <h2>Schema</h2>
 * The JSON Schema (draft 2020-12) is {@code /io/colo4j/rules/rules.schema.json} in this module's jar
 * ({@code rules/src/main/resources/...} in the source tree), {@code $id}
 * {@value io.colo4j.rules.ShardingRules#SCHEMA_ID}; shipped rules files name it in {@code $schema}.
 * Every problem in a file (malformed JSON, unknown keys, unknown spec names, bad patterns) is a
 * {@link io.colo4j.rules.RulesException} whose message starts with {@code file:line:column:}.
 */
package io.colo4j.rules;
