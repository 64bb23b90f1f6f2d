package io.colo4j.spec.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.ComputePattern;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.spec.placement.TensorParallelMapping;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpecJsonTest {

    @Test
    void distSpecsHaveATypeDiscriminator() {
        assertThat(SpecJson.write(DistSpec.shard(1, 2, 3)))
                .isEqualTo("{\"type\":\"shard\",\"dims\":[1],\"numPartitions\":[2],\"strides\":[3]}");
        assertThat(SpecJson.write(DistSpec.replicate())).isEqualTo("{\"type\":\"replicate\"}");
        assertThat(SpecJson.write(DistSpec.partialSum())).isEqualTo("{\"type\":\"partial\"}");
    }

    @Test
    void everyDistSpecRoundTrips() {
        List<DistSpec> specs = List.of(
                DistSpec.replicate(),
                DistSpec.partialSum(),
                DistSpec.shard(-1, 4),
                DistSpec.shard(1, 2, 3),
                new ShardSpec(new int[] {0, -1}, new int[] {2, 2}, new int[] {1, 2}));
        for (DistSpec spec : specs) {
            assertThat(SpecJson.readDistSpec(SpecJson.write(spec))).isEqualTo(spec);
            // Read through the concrete type as well, as a module embedding one would.
            assertThat(SpecJson.read(SpecJson.write(spec), spec.getClass())).isEqualTo(spec);
        }
    }

    @Test
    void computeSpecAndProcessGroupRoundTrip() {
        ComputeSpec compute = ComputeSpec.tp1d().withOutputReplicate(false);
        assertThat(SpecJson.write(compute)).isEqualTo("{\"pattern\":\"tp1d\",\"outputReplicate\":false}");
        assertThat(SpecJson.readComputeSpec(SpecJson.write(compute))).isEqualTo(compute);
        assertThat(SpecJson.readComputeSpec(SpecJson.write(ComputeSpec.tp1d()))).isEqualTo(ComputeSpec.tp1d());

        ProcessGroup pg = ProcessGroup.of(2, 4);
        assertThat(SpecJson.write(pg)).isEqualTo("{\"tpDegree\":2,\"dpDegree\":4}");
        assertThat(SpecJson.readProcessGroup(SpecJson.write(pg))).isEqualTo(pg);
    }

    @Test
    void optionalFieldsTakeTheJavaDefaults() {
        assertThat(SpecJson.readDistSpec("{\"type\":\"shard\",\"dims\":[0],\"numPartitions\":[4]}"))
                .isEqualTo(DistSpec.shard(0, 4));
        assertThat(SpecJson.readComputeSpec("{\"pattern\":\"tp1d\"}").outputReplicate()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "ALL_REDUCE, all_reduce",
        "ALL_GATHER, all_gather",
        "REDUCE_SCATTER, reduce_scatter",
        "ALL_TO_ALL, all_to_all",
        "BROADCAST, broadcast",
        "NONE, none",
        "LOCAL_SLICE, local_slice",
        "LOCAL_ZERO_PAD, local_zero_pad",
        "LOCAL_KEEP_ON_RANK0, local_keep_on_rank0"
    })
    void collectiveKindsUseSnakeCaseNames(CollectiveKind kind, String name) {
        assertThat(SpecJson.write(kind)).isEqualTo('"' + name + '"');
        assertThat(SpecJson.read('"' + name + '"', CollectiveKind.class)).isEqualTo(kind);
    }

    @Test
    void otherEnumsRoundTripToo() {
        for (TensorParallelMapping mapping : TensorParallelMapping.values()) {
            assertThat(SpecJson.read(SpecJson.write(mapping), TensorParallelMapping.class)).isEqualTo(mapping);
        }
        assertThat(SpecJson.write(TensorParallelMapping.COPY_TO_TP_REGION)).isEqualTo("\"copy_to_tp_region\"");
        assertThat(SpecJson.write(PlacementKind.SHARD)).isEqualTo("\"shard\"");
        assertThat(SpecJson.write(ComputePattern.TP1D)).isEqualTo("\"tp1d\"");
    }

    @Test
    void unknownPropertiesAreRejectedNamingTheProperty() {
        assertThatThrownBy(() -> SpecJson.readDistSpec(
                        "{\"type\":\"shard\",\"dims\":[1],\"numPartitions\":[2],\"stride\":[3]}"))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("invalid DistSpec JSON")
                .hasMessageContaining("Unrecognized field \"stride\"")
                .hasMessageContaining("ShardSpec");
        // A misspelt required field is reported as the missing one.
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"type\":\"shard\",\"dim\":[0],\"numPartitions\":[2]}"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("Missing required creator property 'dims'");
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"type\":\"replicate\",\"kind\":\"replicate\"}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("Unrecognized field \"kind\"");
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"type\":\"partial\",\"reduceOp\":\"max\"}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("Unrecognized field \"reduceOp\"");
        assertThatThrownBy(() -> SpecJson.readProcessGroup("{\"tpDegree\":2,\"dpDegree\":2,\"worldSize\":4}"))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("invalid ProcessGroup JSON")
                .hasMessageContaining("Unrecognized field \"worldSize\"");
        assertThatThrownBy(() -> SpecJson.readComputeSpec("{\"pattern\":\"tp1d\",\"output_replicate\":false}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("Unrecognized field \"output_replicate\"");
    }

    @Test
    void typeDiscriminatorMustBePresentAndKnown() {
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"dims\":[0],\"numPartitions\":[2]}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("missing type id property 'type'");
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"type\":\"sharded\",\"dims\":[0],\"numPartitions\":[2]}"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("'sharded'")
                .hasMessageContaining("[partial, replicate, shard]");
    }

    @Test
    void requiredFieldsMustBePresent() {
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"type\":\"shard\",\"dims\":[0]}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("'numPartitions'");
        assertThatThrownBy(() -> SpecJson.readProcessGroup("{\"tpDegree\":2}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("'dpDegree'");
        assertThatThrownBy(() -> SpecJson.readComputeSpec("{\"outputReplicate\":true}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("'pattern'");
    }

    @Test
    void invalidValuesReportTheSpecsOwnMessage() {
        assertThatThrownBy(() -> SpecJson.readDistSpec("{\"type\":\"shard\",\"dims\":[1],\"numPartitions\":[0]}"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("shard spec dim 1 has 0 partitions, needs >= 1");
        assertThatThrownBy(() -> SpecJson.readProcessGroup("{\"tpDegree\":0,\"dpDegree\":2}"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("process group tpDegree must be >= 1, got 0");
        assertThatThrownBy(() -> SpecJson.readComputeSpec("{\"pattern\":\"TP1D\"}"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("unknown ComputePattern \"TP1D\"; expected one of \"tp1d\"");
        assertThatThrownBy(() -> SpecJson.read("\"all-reduce\"", CollectiveKind.class))
                .isInstanceOf(SpecException.class).hasMessageContaining("unknown CollectiveKind \"all-reduce\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"type\":\"shard\",\"dims\":[\"1\"],\"numPartitions\":[2]}",
        "{\"type\":\"shard\",\"dims\":[1.5],\"numPartitions\":[2]}",
        "{\"type\":\"shard\",\"dims\":1,\"numPartitions\":[2]}",
        "{\"type\":\"shard\",\"dims\":[1],\"dims\":[0],\"numPartitions\":[2]}",
        "{\"type\":\"replicate\"} {\"type\":\"partial\"}",
        "{\"type\":\"replicate\"",
        "[]",
        ""
    })
    void malformedJsonIsRejected(String json) {
        assertThatThrownBy(() -> SpecJson.readDistSpec(json))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("invalid DistSpec JSON");
    }

    @Test
    void longInputIsAbbreviatedInTheMessage() {
        String json = "{\"type\":\"shard\",\"dims\":[0],\"numPartitions\":[2],\"note\":\"" + "x".repeat(1000) + "\"}";
        assertThatThrownBy(() -> SpecJson.readDistSpec(json))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("...: ")
                .hasMessageContaining("Unrecognized field \"note\"")
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(700));
    }

    @Test
    void stringsAreNotNumbersAndNullIsNotJson() {
        assertThatThrownBy(() -> SpecJson.readProcessGroup("{\"tpDegree\":\"2\",\"dpDegree\":2}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("tpDegree");
        assertThatThrownBy(() -> SpecJson.readComputeSpec("{\"pattern\":\"tp1d\",\"outputReplicate\":\"no\"}"))
                .isInstanceOf(SpecException.class).hasMessageContaining("outputReplicate");
        assertThatThrownBy(() -> SpecJson.readProcessGroup(null))
                .isInstanceOf(SpecException.class).hasMessage("cannot read a ProcessGroup from null JSON");
    }
}
