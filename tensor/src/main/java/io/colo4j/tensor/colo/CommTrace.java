package io.colo4j.tensor.colo;

import io.colo4j.spec.placement.CollectiveKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every collective one rank issued, in order, with the op and module that caused it. Tests count
 * all-reduces per layer from here, and {@code colo4j plan} prints it; nothing is kept unless enabled.
 */
public final class CommTrace {
    /** One collective: its kind, the bytes this rank sent, forward or backward. */
    public record Record(String module, String op, CollectiveKind collective, long bytes, Phase phase) {}

    /** When in the step: the model's forward or backward, or the optimizer (ZeRO's parameter all-gather). */
    public enum Phase { FORWARD, BACKWARD, OPTIMIZER }

    /** An op that had no sharding rule for its inputs' placements and ran on replicated inputs. */
    public record Fallback(String module, String op, String placements) {}

    private final List<Record> records = new ArrayList<>();
    private final List<Fallback> fallbacks = new ArrayList<>();
    private boolean enabled;

    public synchronized void enable(boolean on) {
        enabled = on;
    }

    public synchronized boolean enabled() {
        return enabled;
    }

    synchronized void add(Record record) {
        if (enabled) {
            records.add(record);
        }
    }

    public synchronized void addFallback(Fallback fallback) {
        if (enabled) {
            fallbacks.add(fallback);
        }
    }

    public synchronized List<Fallback> fallbacks() {
        return Collections.unmodifiableList(new ArrayList<>(fallbacks));
    }

    public synchronized List<Record> records() {
        return Collections.unmodifiableList(new ArrayList<>(records));
    }

    public synchronized void clear() {
        records.clear();
        fallbacks.clear();
    }
}
