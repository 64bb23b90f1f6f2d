package io.colo4j.tensor.profile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a training step's time goes, per thread (an in-JVM rank is a thread, so per rank). Code marks named
 * sections ({@link #enter} / {@link #exit}); sections nest, and the time between two marks is charged to the
 * innermost open one only, so the sections of a step add up to the step exactly. Recording happens only inside a
 * {@link #root} section (a step) on the calling thread, so pool workers and set-up code cost nothing and are never
 * counted: a kernel's parallel work is inside the wall time its calling rank thread sees.
 *
 * <p>Off by default; then {@link #enter} is one static read and a return. The hooks sit at the narrowest places:
 * a decorating kernel backend and communicator (no edits to kernels or collectives), storage allocation, the
 * dispatcher, and whoever drives the step (forward, backward, optimizer).
 */
public final class StepProfile {
    private static volatile boolean enabled;
    private static final Map<String, Integer> IDS = new ConcurrentHashMap<>();
    private static final List<String> NAMES = new ArrayList<>();
    private static final ThreadLocal<Recorder> RECORDER = ThreadLocal.withInitial(Recorder::new);

    /** A whole step: its own time is what no inner section claimed. */
    public static final int STEP = section("step");
    /** The model's forward pass outside the sections below: autograd recording and op glue. */
    public static final int FORWARD = section("forward");
    /** {@code loss.backward()} outside the sections below: the autograd engine and the gradient functions' glue. */
    public static final int BACKWARD = section("backward");
    /** The dispatcher on ColoTensors: choosing a strategy, converting inputs, labelling outputs. */
    public static final int DISPATCH = section("dispatch");
    /** Tensor memory: allocation (zeroing and page faults included) and freeing a step's scope. */
    public static final int ALLOCATOR = section("allocator");
    /** Gradient clipping, the optimizer update and zeroing gradients. */
    public static final int OPTIMIZER = section("optimizer");

    private StepProfile() {}

    /** Turns recording on or off for every thread (set it before the ranks start). */
    public static void enable(boolean on) {
        enabled = on;
    }

    public static boolean enabled() {
        return enabled;
    }

    /** The id of section {@code name}, the same for every call with that name. */
    public static int section(String name) {
        Integer id = IDS.get(name);
        if (id != null) {
            return id;
        }
        synchronized (NAMES) {
            return IDS.computeIfAbsent(name, n -> {
                NAMES.add(n);
                return NAMES.size() - 1;
            });
        }
    }

    private static String name(int id) {
        synchronized (NAMES) {
            return NAMES.get(id);
        }
    }

    /**
     * Opens {@code section} inside the step this thread is in; returns the token {@link #exit} takes (-1, and
     * nothing recorded, when profiling is off, no step is open on this thread or {@code section} is -1).
     */
    public static int enter(int section) {
        if (!enabled || section < 0) {
            return -1;
        }
        Recorder r = RECORDER.get();
        return r.depth == 0 ? -1 : r.enter(section);
    }

    /** Opens a step (or any root section) on this thread, recorded even when no section is open. */
    public static int root(int section) {
        return enabled ? RECORDER.get().enter(section) : -1;
    }

    /**
     * Closes the section {@code token} opened, and any left open inside it (an exception that skipped their
     * exits), so one missed exit never shifts the time of the sections around it.
     */
    public static void exit(int token) {
        if (token >= 0) {
            RECORDER.get().exit(token);
        }
    }

    /** Adds {@code amount} of work (e.g. FLOPs) to {@code section} on this thread, when inside a step. */
    public static void addWork(int section, long amount) {
        if (enabled) {
            Recorder r = RECORDER.get();
            if (r.depth > 0) {
                r.grow(section);
                r.work[section] += amount;
            }
        }
    }

    /** Forgets this thread's totals (after warm-up steps). */
    public static void reset() {
        RECORDER.get().clear();
    }

    /** This thread's totals since the last {@link #reset}, by section name in first-use order. */
    public static Map<String, Totals> snapshot() {
        Recorder r = RECORDER.get();
        Map<String, Totals> out = new LinkedHashMap<>();
        for (int id = 0; id < r.nanos.length; id++) {
            if (r.calls[id] > 0 || r.nanos[id] > 0 || r.work[id] > 0) {
                out.put(name(id), new Totals(r.nanos[id], r.calls[id], r.work[id]));
            }
        }
        return out;
    }

    /**
     * One section's totals on one thread.
     *
     * @param nanos its own time (inner sections' excluded)
     * @param calls times it was entered
     * @param work  work added to it ({@link #addWork}), e.g. the FLOPs of its GEMMs
     */
    public record Totals(long nanos, long calls, long work) {}

    /** One thread's open sections and totals. */
    private static final class Recorder {
        private int[] stack = new int[32];
        private int depth;
        private long last;
        private long[] nanos = new long[16];
        private long[] calls = new long[16];
        private long[] work = new long[16];

        int enter(int section) {
            long now = System.nanoTime();
            charge(now);
            if (depth == stack.length) {
                stack = java.util.Arrays.copyOf(stack, 2 * depth);
            }
            grow(section);
            calls[section]++;
            stack[depth] = section;
            return depth++;
        }

        void exit(int token) {
            charge(System.nanoTime());
            depth = Math.min(depth, token);
        }

        private void charge(long now) {
            if (depth > 0) {
                nanos[stack[depth - 1]] += now - last;
            }
            last = now;
        }

        void grow(int section) {
            if (section >= nanos.length) {
                int n = Math.max(section + 1, 2 * nanos.length);
                nanos = java.util.Arrays.copyOf(nanos, n);
                calls = java.util.Arrays.copyOf(calls, n);
                work = java.util.Arrays.copyOf(work, n);
            }
        }

        void clear() {
            java.util.Arrays.fill(nanos, 0);
            java.util.Arrays.fill(calls, 0);
            java.util.Arrays.fill(work, 0);
            last = System.nanoTime();
        }
    }
}
