package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.SequenceParallelGrads;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Megatron sequence parallelism on the zoo GPT-2, switched on as data ({@code sequence_parallel} in the
 * rules): the serial step's loss, gradients and parameters at tp 1, 2, 3 and 4, per block two reduce-scatters
 * and two all-gathers forward and their conjugates backward in place of the all-reduces and no all-reduce at all,
 * the norms' and row biases' gradient shares summed in one all-reduce after backward, the same activation bytes
 * as the all-reduce layout, and a sequence tp does not divide refused by name.
 */
class SequenceParallelTest {
    static final double RTOL = 1e-5;

    private static ShardingRules gpt2(boolean sp) {
        return ModelZoo.family("gpt2").rules().withSequenceParallel(sp);
    }

    /** 48 wide, 3 heads: a model tp 3 can shard, so that only the sequence decides. */
    static final Gpt2Config THREE_HEADS = Gpt2Config.of(100, 32, 48, 2, 3).withDropout(0f);

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void gpt2TrainsAStepLikeTheSerialModel(int tp) {
        Gpt2Config config = tp == 3 ? THREE_HEADS : Gpt2Config.tiny();
        int seq = tp == 3 ? 6 : 8;
        IntTensor in = Gpt2RulesEquivalenceTest.ids(config.vocabSize(), 2, seq, 0);
        IntTensor target = Gpt2RulesEquivalenceTest.ids(config.vocabSize(), 2, seq, 1);
        Supplier<Module> build = () -> new Gpt2Model(config, 42L);
        Function<Module, Tensor> loss = m -> ((Gpt2Model) m).loss(in, target);
        var serial = ShardedRun.serial(build, loss);
        var ranks = ShardedRun.parallel(tp, build, gpt2(true), loss);
        assertThat(ranks.get(0).fallbacks()).as("ops gathered to replicate").isEmpty();
        ShardedRun.assertEquivalent(serial, ranks, RTOL);
    }

    @Test
    void rulesFileKeyTurnsItOn() {
        String json = "{\"default\": \"replicate\", \"sequence_parallel\": true, \"rules\": []}";
        assertThat(ShardingRules.parse(json, "sp.json").sequenceParallel()).isTrue();
        assertThat(ShardingRules.parse("{\"default\": \"replicate\", \"rules\": []}", "plain.json").sequenceParallel()).isFalse();
        assertThatThrownBy(() -> ShardingRules.parse("{\"default\": \"replicate\", \"sequence_parallel\": 1, \"rules\": []}", "bad.json"))
                .hasMessageContaining("bad.json:1:").hasMessageContaining("'sequence_parallel' must be true or false");
    }

    /**
     * One traced training step on rank 0: its collectives, the parameters the rules gave Megatron's sequence_parallel
     * attribute, and those whose gradients were summed after backward.
     */
    record Traced(List<CommTrace.Record> records, Set<String> marked, Set<String> summedAfterBackward) {}

    static Traced trace(int tp, ShardingRules rules, Gpt2Config config, int seq) {
        IntTensor in = Gpt2RulesEquivalenceTest.ids(config.vocabSize(), 2, seq, 0);
        IntTensor target = Gpt2RulesEquivalenceTest.ids(config.vocabSize(), 2, seq, 1);
        return ThreadWorld.call(tp, comm -> {
            Module m;
            CommTrace trace;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                m = new Gpt2Model(config, 42L);
                trace = ctx.context().trace();
            }
            rules.apply(m);
            trace.enable(true);
            ((Gpt2Model) m).loss(in, target).backward();
            Set<String> marked = new TreeSet<>();
            Set<String> summed = new TreeSet<>();
            m.namedParameters().forEach((name, p) -> {
                if (((ColoParameter) p).sequenceParallel()) {
                    marked.add(name);
                }
                if (((ColoParameter) p).gradSummedAfterBackward()) {
                    summed.add(name);
                }
            });
            return new Traced(trace.records(), marked, summed);
        }).get(0);
    }

    /** module -> phase -> collective -> count. */
    static Map<String, Integer> counts(List<CommTrace.Record> records, String modulePrefix) {
        Map<String, Integer> out = new TreeMap<>();
        for (CommTrace.Record r : records) {
            if (r.module().startsWith(modulePrefix)) {
                out.merge(r.phase() + " " + r.collective().wireName(), 1, Integer::sum);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void eachBlockReduceScattersAndGathersInsteadOfAllReducing(int tp) {
        Gpt2Config config = Gpt2Config.tiny();
        Traced sp = trace(tp, gpt2(true), config, 8);
        Traced plain = trace(tp, gpt2(false), config, 8);
        for (int layer = 0; layer < config.nLayer(); layer++) {
            String block = "transformer.h." + layer + ".";
            // no all-reduce inside a block: not even of the norms' and row biases' gradient shares (summed after backward)
            assertThat(counts(sp.records(), block)).as("block %d's collectives", layer).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                    "FORWARD reduce_scatter", 2, "FORWARD all_gather", 2, "BACKWARD all_gather", 2, "BACKWARD reduce_scatter", 2)));
            assertThat(counts(plain.records(), block)).as("without sequence parallelism")
                    .containsExactlyEntriesOf(new TreeMap<>(Map.of("FORWARD all_reduce", 2, "BACKWARD all_reduce", 2)));
            assertThat(bytes(sp.records(), block)).as("bytes of block %d", layer).isEqualTo(bytes(plain.records(), block));
        }
        assertThat(bytes(sp.records(), "transformer.wte")).as("embedding and LM head").isEqualTo(bytes(plain.records(), "transformer.wte"));

        // what each rank holds for its own tokens only: the gains and biases of ln_1, ln_2 and ln_f and the row layers' biases
        Set<String> expected = new TreeSet<>(List.of("transformer.ln_f.weight", "transformer.ln_f.bias"));
        for (int layer = 0; layer < config.nLayer(); layer++) {
            for (String p : List.of("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "attn.c_proj.bias", "mlp.c_proj.bias")) {
                expected.add("transformer.h." + layer + "." + p);
            }
        }
        assertThat(sp.summedAfterBackward()).isEqualTo(expected);
        assertThat(sp.marked()).as("every replicated parameter has the attribute").containsAll(expected).contains("transformer.wpe.weight")
                .doesNotContain("transformer.wte.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.mlp.c_proj.weight");
        assertThat(plain.marked()).as("without sequence parallelism").isEmpty();
        assertThat(plain.summedAfterBackward()).as("without sequence parallelism").isEmpty();
        // summed in one all-reduce after backward (the step's last collective), outside every module, of all their floats
        long summedBytes = (long) expected.size() * config.nEmbd() * Float.BYTES;
        CommTrace.Record last = sp.records().getLast();
        assertThat(sp.records()).filteredOn(r -> r.op().equals(SequenceParallelGrads.OP)).containsExactly(last);
        assertThat(last).isEqualTo(new CommTrace.Record("", SequenceParallelGrads.OP, CollectiveKind.ALL_REDUCE,
                CollectiveKind.ALL_REDUCE.volume(tp, summedBytes, summedBytes).sendBytesPerRank(), CommTrace.Phase.BACKWARD));
        assertThat(plain.records()).noneMatch(r -> r.op().equals(SequenceParallelGrads.OP));
        // every other byte is an activation's (or its gradient's), as many as the all-reduce layout moves, but for the gradient
        // of the position table, which each rank adds to its own tokens (wpe's slice), all-gathered in backward
        List<CommTrace.Record> positions = sp.records().stream().filter(r -> r.module().equals("transformer") && r.op().equals("add")).toList();
        assertThat(positions).singleElement().satisfies(r -> assertThat(r.collective()).isEqualTo(CollectiveKind.ALL_GATHER));
        assertThat(bytes(sp.records(), "") - last.bytes() - positions.getFirst().bytes()).as("bytes per step but the summed gradients")
                .isEqualTo(bytes(plain.records(), ""));
    }

    private static long bytes(List<CommTrace.Record> records, String modulePrefix) {
        return records.stream().filter(r -> r.module().startsWith(modulePrefix)).mapToLong(CommTrace.Record::bytes).sum();
    }

    @Test
    void aSequenceTpDoesNotDivideIsRefusedNamingTheDimAndSizes() {
        assertThatThrownBy(() -> trace(3, gpt2(true), THREE_HEADS, 8))
                .hasStackTraceContaining("[2, 8, 48] of embedding")
                .hasStackTraceContaining("along dim 1 (tokens): 8 is not a multiple of tp=3")
                .hasStackTraceContaining("transformer.wte.weight");
    }
}
