package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.colo.CommTrace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Scaling a proxy's collectives by tokens: exact for those that grow as batch x seq, refused for the others. */
class TokenScalingTest {
    private static final StepTrace.Window BASE = new StepTrace.Window(1, 6);

    private static CommTrace.Record record(String module, CollectiveKind kind, long bytes) {
        return new CommTrace.Record(module, "op", kind, bytes, CommTrace.Phase.FORWARD);
    }

    @Test
    void probesDoubleTheBatchAndTheSequence() {
        assertThat(TokenScaling.probes(BASE)).containsExactly(new StepTrace.Window(1, 6), new StepTrace.Window(2, 6),
                new StepTrace.Window(1, 12));
    }

    @Test
    void aCollectiveThatDoublesWithBatchAndWithSeqScalesToAnyWindowRoundedUpAsTheRingVolume() {
        // an all-reduce over 3 ranks of [tokens, 8] floats: 4/3 x 32 bytes per token, 256 bytes at 6 tokens
        long atBase = CollectiveKind.ALL_REDUCE.volume(3, 6 * 32, 6 * 32).sendBytesPerRank();
        List<TokenScaling.Scaled> scaled = TokenScaling.check(BASE, List.of(List.of(record("a", CollectiveKind.ALL_REDUCE, atBase)),
                List.of(record("a", CollectiveKind.ALL_REDUCE, 2 * atBase)), List.of(record("a", CollectiveKind.ALL_REDUCE, 2 * atBase))));
        assertThat(scaled).singleElement().satisfies(s -> {
            assertThat(s.linear()).isTrue();
            for (long tokens : new long[] {1, 5, 7, 1024, 3 * 1024 + 1}) {
                assertThat(s.bytes(tokens)).as("%d tokens", tokens)
                        .isEqualTo(CollectiveKind.ALL_REDUCE.volume(3, tokens * 32, tokens * 32).sendBytesPerRank());
            }
        });
    }

    @Test
    void collectivesOverSeqSquaredOrOfAFixedSizeAreMarkedNotLinear() {
        List<TokenScaling.Scaled> scaled = TokenScaling.check(BASE, List.of(
                List.of(record("attention", CollectiveKind.ALL_GATHER, 36), record("fixed", CollectiveKind.ALL_REDUCE, 100),
                        record("perBatch", CollectiveKind.ALL_REDUCE, 8), record("tokens", CollectiveKind.ALL_REDUCE, 24)),
                List.of(record("attention", CollectiveKind.ALL_GATHER, 72), record("fixed", CollectiveKind.ALL_REDUCE, 100),
                        record("perBatch", CollectiveKind.ALL_REDUCE, 16), record("tokens", CollectiveKind.ALL_REDUCE, 48)),
                List.of(record("attention", CollectiveKind.ALL_GATHER, 144), record("fixed", CollectiveKind.ALL_REDUCE, 100),
                        record("perBatch", CollectiveKind.ALL_REDUCE, 8), record("tokens", CollectiveKind.ALL_REDUCE, 48))));
        assertThat(scaled).extracting(s -> s.record().module() + "=" + s.linear())
                .containsExactly("attention=false", "fixed=false", "perBatch=false", "tokens=true");
        assertThat(scaled.get(0).measured()).containsExactly(36, 72, 144);
        assertThatThrownBy(() -> scaled.get(0).bytes(1024)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("attention").hasMessageContaining("batch x seq");
    }

    @Test
    void aFixedSizeOrPerPositionCollectiveIsSizedExactlyAndSeqSquaredIsNot() {
        String[] names = {"attention", "fixed", "positions", "perBatch"};
        long[][] bytesAtProbes = {{36, 72, 144}, {100, 100, 100}, {12, 12, 24}, {8, 16, 8}};
        List<List<CommTrace.Record>> traces = new java.util.ArrayList<>();
        for (int probe = 0; probe < 3; probe++) {
            List<CommTrace.Record> trace = new java.util.ArrayList<>();
            for (int i = 0; i < names.length; i++) {
                trace.add(record(names[i], CollectiveKind.ALL_REDUCE, bytesAtProbes[i][probe]));
            }
            traces.add(trace);
        }
        List<TokenScaling.Scaled> scaled = TokenScaling.check(BASE, traces);
        assertThat(scaled).extracting(s -> s.record().module() + "=" + s.sized())
                .containsExactly("attention=false", "fixed=true", "positions=true", "perBatch=false");
        assertThat(scaled.get(1).bytes(BASE, 8, 1024)).isEqualTo(100);
        assertThat(scaled.get(2).bytes(BASE, 8, 1024)).isEqualTo(12L * 1024 / BASE.seq());
        assertThatThrownBy(() -> scaled.get(0).bytes(BASE, 8, 1024)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("attention");
    }

    @Test
    void tracesThatDoNotPairMarkEveryCollectiveNotLinear() {
        List<TokenScaling.Scaled> scaled = TokenScaling.check(BASE, List.of(
                List.of(record("a", CollectiveKind.ALL_REDUCE, 8)),
                List.of(record("a", CollectiveKind.ALL_REDUCE, 16), record("extra", CollectiveKind.ALL_REDUCE, 4)),
                List.of(record("a", CollectiveKind.ALL_REDUCE, 16))));
        assertThat(scaled).singleElement().satisfies(s -> assertThat(s.linear()).isFalse());
    }
}
