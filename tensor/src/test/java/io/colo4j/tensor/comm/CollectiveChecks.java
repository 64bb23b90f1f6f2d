package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Backend-independent checks of every collective, run by each rank of a group (the JUnit tests for the
 * thread backend, {@link MpiTestMain} for MPI). Inputs are integer-valued floats that any rank can
 * regenerate for any other rank, so every result is checked exactly against a locally computed expectation.
 */
final class CollectiveChecks {
    private CollectiveChecks() {}

    /** Rank {@code r}'s input: element i (row-major) is {@code (r + 1) * 1000 + i + salt}. */
    static Tensor input(int r, int salt, int... shape) {
        int n = (int) Tensor.zeros(shape).numel();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r + 1) * 1000 + i + salt;
        }
        return Tensor.of(v, shape);
    }

    static Tensor sumOfInputs(int size, int salt, int... shape) {
        Tensor acc = Tensor.zeros(shape);
        for (int r = 0; r < size; r++) {
            acc.addInPlace(input(r, salt, shape));
        }
        return acc;
    }

    static void assertSame(String what, Tensor actual, Tensor expected) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        assertThat(actual.toFloatArray()).as(what).containsExactly(expected.toFloatArray());
    }

    /** Every collective, several shapes and dims, both tensor and flat variants; then a split. */
    static void all(Communicator comm) {
        all(comm, 10_007);
    }

    /** As {@link #all(Communicator)}, with {@code randomCount} floats in the random bitwise check. */
    static void all(Communicator comm, int randomCount) {
        int n = comm.size();
        int r = comm.rank();
        assertThat(r).isBetween(0, n - 1);

        // allReduce: contiguous, non-contiguous, scalar-ish, empty
        Tensor t = input(r, 1, 5, 7);
        comm.allReduce(t);
        assertSame("allReduce [5, 7]", t, sumOfInputs(n, 1, 5, 7));
        Tensor base = input(r, 2, 7, 5);
        Tensor transposed = base.transpose(0, 1);
        comm.allReduce(transposed);
        assertSame("allReduce of a transposed view", base, sumOfInputs(n, 2, 7, 5));
        Tensor one = input(r, 3, 1);
        comm.allReduce(one);
        assertSame("allReduce [1]", one, sumOfInputs(n, 3, 1));
        Tensor empty = Tensor.zeros(0, 3);
        comm.allReduce(empty);
        Tensor big = input(r, 4, 3, 1037);
        comm.allReduce(big);
        assertSame("allReduce [3, 1037]", big, sumOfInputs(n, 4, 3, 1037));

        // allGather along every dim of 2-d and 3-d tensors, and of a non-contiguous view
        for (int[] shape : new int[][] {{3, 4}, {2, 3, 5}}) {
            for (int d = 0; d < shape.length; d++) {
                Tensor out = comm.allGather(input(r, 5 + d, shape), d);
                List<Tensor> parts = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    parts.add(input(j, 5 + d, shape));
                }
                assertSame("allGather " + Arrays.toString(shape) + " dim " + d, out, Tensor.cat(d, parts));
            }
        }
        Tensor gatheredT = comm.allGather(input(r, 9, 4, 3).transpose(0, 1), -1);
        List<Tensor> tparts = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            tparts.add(input(j, 9, 4, 3).transpose(0, 1));
        }
        assertSame("allGather of a transposed view, dim -1", gatheredT, Tensor.cat(1, tparts));

        // reduceScatter along every dim
        for (int[] shape : new int[][] {{2 * n, 3}, {3, 2 * n}, {2, n, 3}}) {
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] % n != 0) {
                    continue;
                }
                Tensor out = comm.reduceScatter(input(r, 11 + d, shape), d);
                Tensor sum = sumOfInputs(n, 11 + d, shape);
                int part = shape[d] / n;
                assertSame("reduceScatter " + Arrays.toString(shape) + " dim " + d, out, sum.narrow(d, r * part, part).contiguous());
            }
        }

        // broadcast from every root
        for (int root = 0; root < n; root++) {
            Tensor b = input(r, 20 + root, 3, 2);
            comm.broadcast(b, root);
            assertSame("broadcast from " + root, b, input(root, 20 + root, 3, 2));
        }
        Tensor bnc = input(r, 30, 2, 3);
        comm.broadcast(bnc.transpose(0, 1), n - 1);
        assertSame("broadcast into a transposed view", bnc, input(n - 1, 30, 2, 3));

        // allToAll for every (splitDim, concatDim) of a 3-d tensor
        int[] a2aShape = {2 * n, 3, n};
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                if (a2aShape[a] % n != 0) {
                    continue;
                }
                Tensor out = comm.allToAll(input(r, 40 + a * 3 + b, a2aShape), a, b);
                int s = a2aShape[a] / n;
                List<Tensor> parts = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    parts.add(input(j, 40 + a * 3 + b, a2aShape).narrow(a, r * s, s));
                }
                assertSame("allToAll split " + a + " concat " + b, out, Tensor.cat(b, parts));
            }
        }

        comm.barrier();

        // flat variants
        try (Arena arena = Arena.ofShared()) {
            int k = 37;
            MemorySegment buf = arena.allocate((long) k * Float.BYTES);
            MemorySegment.copy(input(r, 50, k).toFloatArray(), 0, buf, ValueLayout.JAVA_FLOAT, 0, k);
            comm.allReduce(buf);
            assertThat(buf.toArray(ValueLayout.JAVA_FLOAT)).as("flat allReduce").containsExactly(sumOfInputs(n, 50, k).toFloatArray());

            MemorySegment local = arena.allocate((long) k * Float.BYTES);
            MemorySegment.copy(input(r, 51, k).toFloatArray(), 0, local, ValueLayout.JAVA_FLOAT, 0, k);
            MemorySegment gathered = arena.allocate((long) k * n * Float.BYTES);
            comm.allGather(local, gathered);
            List<Tensor> parts = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                parts.add(input(j, 51, k));
            }
            assertThat(gathered.toArray(ValueLayout.JAVA_FLOAT)).as("flat allGather").containsExactly(Tensor.cat(0, parts).toFloatArray());

            MemorySegment full = arena.allocate((long) k * n * Float.BYTES);
            MemorySegment.copy(input(r, 52, k * n).toFloatArray(), 0, full, ValueLayout.JAVA_FLOAT, 0, k * n);
            MemorySegment mine = arena.allocate((long) k * Float.BYTES);
            comm.reduceScatter(full, mine);
            assertThat(mine.toArray(ValueLayout.JAVA_FLOAT)).as("flat reduceScatter")
                    .containsExactly(sumOfInputs(n, 52, k * n).narrow(0, r * k, k).toFloatArray());

            MemorySegment bc = arena.allocate((long) k * Float.BYTES);
            MemorySegment.copy(input(r, 53, k).toFloatArray(), 0, bc, ValueLayout.JAVA_FLOAT, 0, k);
            comm.broadcast(bc, 0);
            assertThat(bc.toArray(ValueLayout.JAVA_FLOAT)).as("flat broadcast").containsExactly(input(0, 53, k).toFloatArray());
        }

        randomBitwise(comm, randomCount);

        // split: odd and even ranks, keys reversing the order
        try (Communicator half = comm.split(r % 2, -r)) {
            List<Integer> members = new ArrayList<>();
            for (int j = n - 1; j >= 0; j--) {
                if (j % 2 == r % 2) {
                    members.add(j);
                }
            }
            assertThat(half.size()).as("split size").isEqualTo(members.size());
            assertThat(half.rank()).as("split rank").isEqualTo(members.indexOf(r));
            Tensor h = input(r, 60, 4);
            half.allReduce(h);
            Tensor expected = Tensor.zeros(4);
            for (int j : members) {
                expected.addInPlace(input(j, 60, 4));
            }
            assertSame("allReduce in a split group", h, expected);
            Tensor g = half.allGather(input(r, 61, 2), 0);
            List<Tensor> parts = new ArrayList<>();
            for (int j : members) {
                parts.add(input(j, 61, 2));
            }
            assertSame("allGather in a split group (key order)", g, Tensor.cat(0, parts));
        }
        comm.barrier();
    }

    /** All-reduce of random floats: every rank must end with the same bits. Returns a hash of them. */
    static int randomBitwise(Communicator comm, int count) {
        Random rnd = new Random(1234 + comm.rank());
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
        }
        Tensor t = Tensor.of(v, count);
        comm.allReduce(t);
        Tensor all = comm.allGather(t, 0);
        int[] mine = bits(t.toFloatArray());
        for (int j = 0; j < comm.size(); j++) {
            int[] theirs = bits(all.narrow(0, j * count, count).toFloatArray());
            if (!Arrays.equals(theirs, mine)) {
                assertThat(theirs).as("allReduce result of rank %d is bitwise equal to rank %d's", j, comm.rank()).containsExactly(mine);
            }
        }
        // and the result is the sum to within rounding
        double[] expect = new double[count];
        double[] magnitude = new double[count];
        for (int j = 0; j < comm.size(); j++) {
            Random rj = new Random(1234 + j);
            for (int i = 0; i < count; i++) {
                float x = (float) (rj.nextGaussian() * Math.pow(10, rj.nextInt(7) - 3));
                expect[i] += x;
                magnitude[i] += Math.abs(x);
            }
        }
        float[] got = t.toFloatArray();
        for (int i = 0; i < count; i++) {
            double tol = 2.4e-7 * comm.size() * magnitude[i];
            if (Math.abs(got[i] - expect[i]) > tol) {
                assertThat((double) got[i]).as("random allReduce element %d", i).isEqualTo(expect[i]);
            }
        }
        return Arrays.hashCode(mine);
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    /**
     * A dp x tp mesh with Megatron's numbering (rank = dpRank * tp + tpRank): tp groups from
     * split(dpRank, tpRank), dp groups from split(tpRank, dpRank); collectives in each, then the full suite.
     */
    static void mesh(Communicator world, int tp) {
        int n = world.size();
        assertThat(n % tp).isZero();
        int dp = n / tp;
        int r = world.rank();
        int dpRank = r / tp;
        int tpRank = r % tp;
        try (Communicator tpGroup = world.split(dpRank, tpRank); Communicator dpGroup = world.split(tpRank, dpRank)) {
            assertThat(tpGroup.size()).isEqualTo(tp);
            assertThat(tpGroup.rank()).isEqualTo(tpRank);
            assertThat(dpGroup.size()).isEqualTo(dp);
            assertThat(dpGroup.rank()).isEqualTo(dpRank);

            // tp all-reduce sums the ranks of one dp replica
            assertGroupSum("tp allReduce", tpGroup, r, 70, t -> dpRank * tp + t, 3, 4);

            // dp all-reduce (gradient averaging) sums the same tp shard across replicas
            assertGroupSum("dp allReduce", dpGroup, r, 71, d -> d * tp + tpRank, 2, 2);

            // tp all-gather along the last dim (column-parallel output) in tp-rank order
            Tensor cols = tpGroup.allGather(input(r, 72, 2, 3), 1);
            List<Tensor> parts = new ArrayList<>();
            for (int t = 0; t < tp; t++) {
                parts.add(input(dpRank * tp + t, 72, 2, 3));
            }
            assertSame("tp allGather dim 1", cols, Tensor.cat(1, parts));

            // interleaved use of both groups and the world
            Tensor w = input(r, 73, 5);
            world.allReduce(w);
            assertSame("world allReduce between group collectives", w, sumOfInputs(n, 73, 5));
            tpGroup.barrier();
            dpGroup.barrier();

            all(tpGroup);
            all(dpGroup);
        }
    }

    /**
     * Inputs that do not fit together fail on every rank with a message naming the collective, the rank and
     * the shapes; the communicator keeps working afterwards. Needs at least 2 ranks.
     */
    static void mismatches(Communicator comm) {
        int n = comm.size();
        int r = comm.rank();
        String me = "rank " + r + " of " + n;

        assertThatThrownBy(() -> comm.allReduce(Tensor.zeros(2, r == 0 ? 4 : 3)))
                .isInstanceOf(CommMismatchException.class)
                .hasMessageContaining("allReduce").hasMessageContaining(me)
                .hasMessageContaining("rank 0 [2, 4]").hasMessageContaining("rank 1 [2, 3]");

        assertThatThrownBy(() -> comm.allGather(Tensor.zeros(r == n - 1 ? 5 : 6), 0))
                .isInstanceOf(CommMismatchException.class)
                .hasMessageContaining("allGather").hasMessageContaining(me).hasMessageContaining("[5]").hasMessageContaining("[6]");

        assertThatThrownBy(() -> comm.reduceScatter(Tensor.zeros(3, n + 1), 1))
                .isInstanceOf(CommMismatchException.class)
                .hasMessageContaining("reduceScatter").hasMessageContaining(me)
                .hasMessageContaining("not divisible").hasMessageContaining("[3, " + (n + 1) + "]");

        assertThatThrownBy(() -> comm.allToAll(Tensor.zeros(n + 1, 2), 0, 1))
                .isInstanceOf(CommMismatchException.class)
                .hasMessageContaining("allToAll").hasMessageContaining(me).hasMessageContaining("not divisible");

        assertThatThrownBy(() -> comm.allGather(Tensor.zeros(2, 2), r == 0 ? 0 : 1))
                .isInstanceOf(CommMismatchException.class)
                .hasMessageContaining("allGather").hasMessageContaining("arguments differ").hasMessageContaining("dim=");

        assertThatThrownBy(() -> comm.broadcast(Tensor.zeros(2), n))
                .isInstanceOf(CommMismatchException.class)
                .hasMessageContaining("broadcast").hasMessageContaining("root " + n);

        assertThatThrownBy(() -> {
            if (r == 0) {
                comm.barrier();
            } else {
                comm.allReduce(Tensor.zeros(1));
            }
        }).isInstanceOf(CommMismatchException.class).hasMessageContaining("different collectives")
                .hasMessageContaining("rank 0 barrier").hasMessageContaining("rank 1 allReduce");

        assertThatThrownBy(() -> comm.allGather(Tensor.zeros(2), 3))
                .isInstanceOf(CommMismatchException.class).hasMessageContaining("out of range");

        // still usable
        Tensor t = input(r, 80, 3);
        comm.allReduce(t);
        assertSame("allReduce after mismatches", t, sumOfInputs(n, 80, 3));
    }

    /** All-reduce of world rank {@code r}'s input over {@code group}, whose rank g is world rank {@code worldRank(g)}. */
    private static void assertGroupSum(String what, Communicator group, int r, int seed, java.util.function.IntUnaryOperator worldRank,
                                       int... shape) {
        Tensor a = input(r, seed, shape);
        group.allReduce(a);
        Tensor expected = Tensor.zeros(shape);
        for (int g = 0; g < group.size(); g++) {
            expected.addInPlace(input(worldRank.applyAsInt(g), seed, shape));
        }
        assertSame(what, a, expected);
    }
}
