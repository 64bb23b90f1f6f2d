package io.colo4j.tensor.comm;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Collective bandwidth, as nccl-tests reports it: for a size S (the all-reduce buffer, the all-gather output,
 * the reduce-scatter input) and a time t per operation, algbw = S / t and busbw = algbw x 2(n-1)/n for
 * all-reduce, x (n-1)/n for all-gather and reduce-scatter, so that busbw is comparable with the memory
 * bandwidth of the same buffer: a single-thread {@link MemorySegment#copy} of S bytes (GB/s = S / t).
 *
 * <p>Without mpirun it measures {@link ThreadCommunicator} at the given in-JVM rank counts (default 2 and 4);
 * under mpirun it measures {@link MpiCommunicator} at the world size (rank 0 prints). Sizes default to 1, 16
 * and 64 MiB; each figure is the best of several rounds, each round the mean over enough iterations to take
 * about {@code minMillis}. Collectives use the flat buffer variants, so no output is allocated per call.
 *
 * <p>Usage: {@code CommBench [--ranks 2,4] [--sizes 1,16,64] [--rounds 10] [--min-ms 100] [--backend auto|thread|mpi]}.
 */
public final class CommBench {
    private static final long MIB = 1L << 20;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    /** The first measurement in a JVM warms up for at least 1.5 s (JIT compiler threads compete for the cores). */
    private static volatile boolean firstWarmUp = true;

    /** What to measure. Sizes in bytes. */
    public record Options(int[] threadRanks, long[] sizes, int rounds, int minMillis, String backend) {
        public static Options defaults() {
            return new Options(new int[] {2, 4}, new long[] {MIB, 16 * MIB, 64 * MIB}, 10, 100, "auto");
        }
    }

    /** One line of the report; bandwidths in GB/s (1e9 bytes/s), times in seconds. */
    public record Row(String backend, int ranks, long bytes, double memcpyGBs, double memcpySeconds,
                      double allReduceBusGBs, double allReduceSeconds, double allGatherBusGBs, double reduceScatterBusGBs) {
        /** All-reduce time over the memcpy time of the same buffer. */
        public double allReduceOverMemcpy() {
            return allReduceSeconds / memcpySeconds;
        }
    }

    private CommBench() {}

    public static void main(String[] args) {
        run(System.out, parse(args));
    }

    /** The default benchmark (see the class comment), printed to {@code out}. */
    public static List<Row> run(PrintStream out) {
        return run(out, Options.defaults());
    }

    /** Runs the benchmark, prints the table to {@code out} (rank 0 only under MPI) and returns its rows. */
    public static List<Row> run(PrintStream out, Options options) {
        boolean mpi = switch (options.backend()) {
            case "mpi" -> true;
            case "thread" -> false;
            case "auto" -> Communicators.underMpi();
            default -> throw new IllegalArgumentException("backend must be auto, thread or mpi: " + options.backend());
        };
        List<Row> rows = new ArrayList<>();
        if (mpi) {
            MpiCommunicator world = MpiCommunicator.world();
            boolean print = world.rank() == 0;
            if (print) {
                header(out, options, "MPI (" + world.libraryVersion().lines().findFirst().orElse("?") + ")");
            }
            for (long bytes : options.sizes()) {
                double[] memcpy = print ? memcpy(bytes, options) : new double[] {1, 1};
                double[] t = measure(world, bytes, options);
                Row row = row("mpi", world.size(), bytes, memcpy, t);
                if (print) {
                    print(out, row);
                    rows.add(row);
                }
            }
            world.close();
            return rows;
        }
        header(out, options, "in-JVM threads (ThreadCommunicator)");
        for (int ranks : options.threadRanks()) {
            for (long bytes : options.sizes()) {
                double[] memcpy = memcpy(bytes, options);
                List<double[]> times = ThreadWorld.call(ranks, comm -> measure(comm, bytes, options));
                Row row = row("thread", ranks, bytes, memcpy, times.get(0));
                print(out, row);
                rows.add(row);
            }
        }
        return rows;
    }

    private static void header(PrintStream out, Options o, String what) {
        out.printf(Locale.ROOT, "colo4j comm bench: %s, %d cores; best of %d rounds; GB/s = 1e9 B/s%n", what,
                Runtime.getRuntime().availableProcessors(), o.rounds());
        out.println("busbw = algbw x 2(n-1)/n (all-reduce), x (n-1)/n (all-gather, reduce-scatter); size = all-reduce buffer"
                + " = all-gather output = reduce-scatter input; memcpy = one thread copying size bytes");
        out.printf(Locale.ROOT, "%-7s %5s %9s %8s %11s %11s %14s %12s %10s%n", "backend", "ranks", "size", "memcpy",
                "all-reduce", "all-gather", "reduce-scatter", "all-reduce", "ar/memcpy");
        out.printf(Locale.ROOT, "%-7s %5s %9s %8s %11s %11s %14s %12s %10s%n", "", "", "", "GB/s",
                "busbw GB/s", "busbw GB/s", "busbw GB/s", "time", "time");
        out.flush();
    }

    private static void print(PrintStream out, Row r) {
        out.printf(Locale.ROOT, "%-7s %5d %9s %8.2f %11.2f %11.2f %14.2f %9.3f ms %9.2fx%n", r.backend(), r.ranks(),
                size(r.bytes()), r.memcpyGBs(), r.allReduceBusGBs(), r.allGatherBusGBs(), r.reduceScatterBusGBs(),
                r.allReduceSeconds() * 1e3, r.allReduceOverMemcpy());
        out.flush();
    }

    private static String size(long bytes) {
        return bytes % MIB == 0 ? bytes / MIB + " MiB" : bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    private static Row row(String backend, int n, long bytes, double[] memcpy, double[] t) {
        double arFactor = 2.0 * (n - 1) / n;
        double agFactor = (double) (n - 1) / n;
        return new Row(backend, n, bytes, bytes / memcpy[0] / 1e9, memcpy[0],
                bytes / t[0] / 1e9 * arFactor, t[0], bytes / t[1] / 1e9 * agFactor, bytes / t[2] / 1e9 * agFactor);
    }

    /** Best seconds per copy of {@code bytes} with one thread. */
    private static double[] memcpy(long bytes, Options o) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(bytes, 64);
            MemorySegment dst = arena.allocate(bytes, 64);
            int iters = 1;
            double best = Double.MAX_VALUE;
            MemorySegment.copy(src, 0, dst, 0, bytes);
            long t0 = System.nanoTime();
            MemorySegment.copy(src, 0, dst, 0, bytes);
            double once = Math.max(1e-7, (System.nanoTime() - t0) / 1e9);
            iters = (int) Math.max(1, Math.min(100_000, o.minMillis() / 1e3 / once));
            for (int r = 0; r < o.rounds(); r++) {
                long s = System.nanoTime();
                for (int i = 0; i < iters; i++) {
                    MemorySegment.copy(src, 0, dst, 0, bytes);
                }
                best = Math.min(best, (System.nanoTime() - s) / 1e9 / iters);
            }
            return new double[] {best};
        }
    }

    /** Best seconds per all-reduce, all-gather, reduce-scatter of size {@code bytes} (same on every rank). */
    private static double[] measure(Communicator comm, long bytes, Options o) {
        int n = comm.size();
        long floats = bytes / Float.BYTES / n * n;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(floats * Float.BYTES, 64);
            MemorySegment part = arena.allocate(floats / n * Float.BYTES, 64);
            MemorySegment whole = arena.allocate(floats * Float.BYTES, 64);
            double[] out = new double[3];
            out[0] = time(comm, o, () -> comm.allReduce(buf));
            out[1] = time(comm, o, () -> comm.allGather(part, whole));
            out[2] = time(comm, o, () -> comm.reduceScatter(buf, part));
            comm.barrier();
            return out;
        }
    }

    private static double time(Communicator comm, Options o, Runnable op) {
        // Every rank must run the same number of iterations, so rank 0 decides and broadcasts. Warm-up runs in
        // rounds of about minMillis until a round is no longer clearly faster than the best so far (the JIT,
        // and under mpirun the JVM's own threads sharing the rank's core, take a second or two to settle).
        MemorySegment box = Arena.ofAuto().allocate(Float.BYTES);
        long t0 = System.nanoTime();
        op.run();
        double best = Math.max(1e-7, (System.nanoTime() - t0) / 1e9);
        long minWarmNanos = firstWarmUp ? 1_500_000_000L : 0;
        firstWarmUp = false;
        for (int round = 0, calm = 0; round < 100; round++) {
            double t = round(comm, o, op, box, best);
            calm = t < best * 0.97 ? 0 : calm + 1;
            best = Math.min(best, t);
            boolean settled = round >= 2 && calm >= 2 && System.nanoTime() - t0 > minWarmNanos;
            box.set(FLOAT, 0, settled ? 0f : 1f);
            comm.broadcast(box, 0);
            if (box.get(FLOAT, 0) == 0f) {
                break;
            }
        }
        double measured = Double.MAX_VALUE;
        for (int r = 0; r < o.rounds(); r++) {
            measured = Math.min(measured, round(comm, o, op, box, Math.min(best, measured)));
        }
        return measured;
    }

    /**
     * One timed round of about minMillis (at least 5 operations, sized from the best time so far); returns
     * seconds per operation by rank 0's clock.
     */
    private static double round(Communicator comm, Options o, Runnable op, MemorySegment box, double perOp) {
        box.set(FLOAT, 0, (float) Math.max(5, Math.min(100_000, o.minMillis() / 1e3 / perOp)));
        comm.broadcast(box, 0);
        int iters = (int) box.get(FLOAT, 0);
        comm.barrier();
        long s = System.nanoTime();
        for (int i = 0; i < iters; i++) {
            op.run();
        }
        comm.barrier();
        return (System.nanoTime() - s) / 1e9 / iters;
    }

    static Options parse(String[] args) {
        Options d = Options.defaults();
        int[] ranks = d.threadRanks();
        long[] sizes = d.sizes();
        int rounds = d.rounds();
        int minMs = d.minMillis();
        String backend = d.backend();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) {
                throw new IllegalArgumentException("CommBench: " + a + " needs a value");
            }
            switch (a) {
                case "--ranks" -> ranks = Arrays.stream(v.split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
                case "--sizes" -> sizes = Arrays.stream(v.split(",")).mapToLong(s -> (long) (Double.parseDouble(s.strip()) * MIB)).toArray();
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--min-ms" -> minMs = Integer.parseInt(v);
                case "--backend" -> backend = v;
                default -> throw new IllegalArgumentException("CommBench: unknown option " + a
                        + " (use --ranks 2,4 --sizes 1,16,64 [MiB] --rounds N --min-ms M --backend auto|thread|mpi)");
            }
            i++;
        }
        return new Options(ranks, sizes, rounds, minMs, backend);
    }
}
