package io.colo4j.zoo.sizing;

import io.colo4j.tensor.colo.CommTrace;
import java.util.ArrayList;
import java.util.List;

/**
 * Scales a proxy's collectives from the small windows it was traced at to the step being sized, after
 * checking that each one grows exactly as batch x seq. Tensor-parallel collectives move activations
 * ([batch, seq, hidden]) or per-token values ([batch, seq]), so doubling the batch or the sequence must
 * double every one of them; one that does not (a payload over seq x seq, or of a fixed size) is kept,
 * marked {@linkplain Scaled#linear() not linear}, so that no wrong number is printed for it. Two other growths
 * are still sized exactly ({@link Scaled#sized()}): a collective of the same bytes at every probe (a replicated
 * parameter's gradient that each rank holds for its own tokens only under sequence parallelism: the proxy keeps
 * every width) and one that doubles with the sequence alone (the gradient of a per-position table such as
 * GPT-2's wpe, split along the tokens); {@link CommPerStep} sizes those at the step's batch and seq.
 *
 * <p>The probes are {@code base}, twice its batch and twice its seq. Their token counts should be
 * multiples of the group size: ring volumes ({@link io.colo4j.spec.placement.CollectiveKind#volume}) are
 * then whole numbers of bytes, {@code c * tokens} exactly, and the volume at any other token count is
 * that rational rounded up, as the collective itself rounds it.
 */
public final class TokenScaling {
    /** One collective of the proxy step with its bytes at the three probes. */
    public record Scaled(CommTrace.Record record, long probeTokens, long[] measured, boolean linear) {
        public Scaled {
            measured = measured.clone();
        }

        /** The same bytes at every probe. */
        public boolean constant() {
            return measured[1] == measured[0] && measured[2] == measured[0];
        }

        /** Twice the bytes at twice the seq, the same at twice the batch. */
        public boolean perPosition() {
            return measured[1] == measured[0] && measured[2] == 2 * measured[0];
        }

        /** Whether {@link #bytes(long, long)} can size it: linear, constant or per position. */
        public boolean sized() {
            return linear || constant() || perPosition();
        }

        /** Bytes at a step of {@code batch} x {@code seq} tokens, for the probe {@code base} it was traced at. */
        public long bytes(StepTrace.Window base, long batch, long seq) {
            if (linear) {
                return bytes(Math.multiplyExact(batch, seq));
            }
            if (constant()) {
                return measured[0];
            }
            if (perPosition()) {
                return Math.ceilDiv(Math.multiplyExact(measured[0], seq), base.seq());
            }
            throw new IllegalStateException(record + " does not grow as batch x seq, as seq alone, or not at all");
        }

        @Override
        public long[] measured() {
            return measured.clone();
        }

        /** Bytes at a step of {@code tokens} (batch x seq); only for a linear collective. */
        public long bytes(long tokens) {
            if (!linear) {
                throw new IllegalStateException(record + " does not grow as batch x seq");
            }
            return Math.ceilDiv(Math.multiplyExact(measured[0], tokens), probeTokens);
        }
    }

    private TokenScaling() {}

    /** The three probe windows for a base window: itself, twice the batch, twice the sequence. */
    public static List<StepTrace.Window> probes(StepTrace.Window base) {
        return List.of(base, new StepTrace.Window(2 * base.batch(), base.seq()), new StepTrace.Window(base.batch(), 2 * base.seq()));
    }

    /**
     * Pairs the collectives of the three probe traces (the same ops run in the same order at every
     * window, so they pair by position) and checks each for exact linearity. When the traces do not
     * pair (a collective appears at one window only), every collective is marked not linear.
     */
    public static List<Scaled> check(StepTrace.Window base, List<List<CommTrace.Record>> probeTraces) {
        if (probeTraces.size() != 3) {
            throw new IllegalArgumentException("expected the traces of the 3 probes, got " + probeTraces.size());
        }
        List<CommTrace.Record> first = probeTraces.get(0);
        boolean paired = probeTraces.stream().allMatch(t -> t.size() == first.size());
        for (int i = 0; paired && i < first.size(); i++) {
            for (List<CommTrace.Record> t : probeTraces) {
                paired &= sameCollective(first.get(i), t.get(i));
            }
        }
        List<Scaled> out = new ArrayList<>(first.size());
        for (int i = 0; i < first.size(); i++) {
            long b1 = first.get(i).bytes();
            long b2 = paired ? probeTraces.get(1).get(i).bytes() : -1;
            long b3 = paired ? probeTraces.get(2).get(i).bytes() : -1;
            boolean linear = paired && b2 == 2 * b1 && b3 == 2 * b1;
            out.add(new Scaled(first.get(i), base.tokens(), new long[] {b1, b2, b3}, linear));
        }
        return out;
    }

    private static boolean sameCollective(CommTrace.Record a, CommTrace.Record b) {
        return a.module().equals(b.module()) && a.op().equals(b.op()) && a.collective() == b.collective() && a.phase() == b.phase();
    }
}
