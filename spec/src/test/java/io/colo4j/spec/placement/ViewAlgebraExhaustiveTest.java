package io.colo4j.spec.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every small case, checked against the brute-force model: when the algebra says an op is local,
 * running it on the ranks' shards with the returned local arguments gives exactly the slices of
 * the global result under the returned spec; and (for one sharded dim) when it says not local,
 * no single-dim shard spec with one set of local arguments would have worked either.
 */
class ViewAlgebraExhaustiveTest {
    private static final int[][] SHAPES = {
        {24}, {4, 6}, {6, 4}, {2, 3, 4}, {3, 8}, {2, 12}, {12, 2}, {2, 2, 6}, {1, 24}, {24, 1}, {2, 1, 12},
        {3, 2, 2, 2}, {36}, {6, 6}, {3, 12}, {2, 3, 6}, {9, 4}, {4, 9}, {3, 3, 4}
    };

    @Test
    void viewIsSoundAndCompleteForOneShardedDim() {
        int local = 0;
        int notLocal = 0;
        for (int[] shape : SHAPES) {
            List<int[]> outs = outputs(BruteTensor.numel(shape));
            for (ShardSpec spec : singleSpecs(shape)) {
                int tp = spec.totalPartitions();
                DistributedBrute x = DistributedBrute.of("x", shape, spec, tp);
                for (int[] out : outs) {
                    LocalPlan<LocalView> plan = ViewAlgebra.view("x", shape, spec, tp, out);
                    BruteTensor globalOut = x.global().view(ViewAlgebra.resolveViewShape("x", shape, out));
                    String what = Arrays.toString(shape) + " as " + spec + " -> " + Arrays.toString(out) + ": " + plan;
                    if (plan instanceof LocalView v) {
                        local++;
                        assertThat(v.globalShape()).as(what).containsExactly(globalOut.shape);
                        assertThat(x.holdsAs(globalOut, v.outputSpec(), t -> t.view(v.localShape()))).as(what).isTrue();
                    } else {
                        notLocal++;
                        assertThat(anyViewCandidate(x, globalOut, spec.numPartitions(0))).as(what).isFalse();
                        assertThat(((NotLocal<LocalView>) plan).requiredInputSpec()).isEqualTo(DistSpec.replicate());
                    }
                }
            }
        }
        assertThat(local).isGreaterThan(1000);
        assertThat(notLocal).isGreaterThan(1000);
    }

    @Test
    void viewIsSoundForTwoShardedDims() {
        int local = 0;
        for (int[] shape : SHAPES) {
            if (shape.length < 2) {
                continue;
            }
            List<int[]> outs = outputs(BruteTensor.numel(shape));
            for (ShardSpec spec : doubleSpecs(shape)) {
                int tp = spec.totalPartitions();
                DistributedBrute x = DistributedBrute.of("x", shape, spec, tp);
                for (int[] out : outs) {
                    LocalPlan<LocalView> plan = ViewAlgebra.view("x", shape, spec, tp, out);
                    if (plan instanceof LocalView v) {
                        local++;
                        assertThat(x.holdsAs(x.global().view(v.globalShape()), v.outputSpec(), t -> t.view(v.localShape())))
                                .as(Arrays.toString(shape) + " as " + spec + " -> " + Arrays.toString(out) + ": " + v)
                                .isTrue();
                    }
                }
            }
        }
        assertThat(local).isGreaterThan(100);
    }

    @Test
    void permuteIsSound() {
        int[][] perms = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
        int[] shape = {2, 4, 6};
        List<ShardSpec> specs = new ArrayList<>(singleSpecs(shape));
        specs.addAll(doubleSpecs(shape));
        for (ShardSpec spec : specs) {
            DistributedBrute x = DistributedBrute.of("x", shape, spec, spec.totalPartitions());
            for (int[] perm : perms) {
                DistSpec out = ViewAlgebra.permute(spec, 3, perm);
                assertThat(x.holdsAs(x.global().permute(perm), out, t -> t.permute(perm)))
                        .as(spec + " permuted by " + Arrays.toString(perm) + " -> " + out).isTrue();
            }
        }
    }

    @Test
    void narrowIsSoundAndCompleteForOneShardedDim() {
        int[] shape = {2, 24};
        int local = 0;
        int notLocal = 0;
        for (ShardSpec spec : singleSpecs(shape)) {
            int tp = spec.totalPartitions();
            int n = spec.numPartitions(0);
            DistributedBrute x = DistributedBrute.of("x", shape, spec, tp);
            for (int dim : new int[] {1, -1, 0}) {
                int d = dim < 0 ? dim + 2 : dim;
                int size = shape[d];
                for (int start = 0; start <= size; start++) {
                    for (int length = 0; start + length <= size; length++) {
                        LocalPlan<LocalNarrow> plan = ViewAlgebra.narrow("x", shape, spec, tp, dim, start, length);
                        BruteTensor globalOut = x.global().narrow(d, start, length);
                        String what = Arrays.toString(shape) + " as " + spec + " narrow(" + dim + ", " + start + ", "
                                + length + "): " + plan;
                        if (plan instanceof LocalNarrow p) {
                            local++;
                            assertThat(x.holdsAs(globalOut, p.outputSpec(),
                                    t -> t.narrow(p.dim(), p.localStart(), p.localLength()))).as(what).isTrue();
                            assertThat(p.localShape()[d]).as(what).isEqualTo(p.localLength());
                        } else {
                            notLocal++;
                            assertThat(anyNarrowCandidate(x, globalOut, d, n)).as(what).isFalse();
                        }
                    }
                }
            }
        }
        assertThat(local).isGreaterThan(500);
        assertThat(notLocal).isGreaterThan(500);
    }

    @Test
    void catIsSoundAndCompleteForOneShardedDim() {
        int[] sizes = {4, 8, 12, 24};
        int local = 0;
        int notLocal = 0;
        for (int n : new int[] {1, 2, 4}) {
            for (int a : sizes) {
                for (int b : sizes) {
                    for (int sa : divisorsOf(a / n)) {
                        for (int sb : divisorsOf(b / n)) {
                            ShardSpec specA = DistSpec.shard(1, n, sa);
                            ShardSpec specB = DistSpec.shard(-1, n, sb);
                            DistributedBrute xa = DistributedBrute.of("a", new int[] {2, a}, specA, n, 0);
                            DistributedBrute xb = DistributedBrute.of("b", new int[] {2, b}, specB, n, 1_000);
                            for (int dim : new int[] {1, 0}) {
                                if (dim == 0 && a != b) {
                                    continue;
                                }
                                LocalPlan<LocalCat> plan = ViewAlgebra.cat("ab", List.of(xa.shape(), xb.shape()),
                                        List.of(specA, specB), n, dim);
                                BruteTensor globalOut = BruteTensor.cat(List.of(xa.global(), xb.global()), dim);
                                List<BruteTensor> cats = new ArrayList<>();
                                for (int r = 0; r < n; r++) {
                                    cats.add(BruteTensor.cat(List.of(xa.locals().get(r), xb.locals().get(r)), dim));
                                }
                                DistributedBrute catted = new DistributedBrute("ab", globalOut, DistSpec.replicate(), n,
                                        cats);
                                String what = specA + " [2, " + a + "] cat " + specB + " [2, " + b + "] along " + dim
                                        + ": " + plan;
                                if (plan instanceof LocalCat c) {
                                    local++;
                                    assertThat(catted.holdsAs(globalOut, c.outputSpec(), t -> t)).as(what).isTrue();
                                } else {
                                    notLocal++;
                                    boolean any = false;
                                    for (int s = 1; s <= globalOut.shape[1] && !any; s++) {
                                        any = catted.holdsAs(globalOut, DistSpec.shard(1, n, s), t -> t);
                                    }
                                    assertThat(any).as(what).isFalse();
                                }
                            }
                        }
                    }
                }
            }
        }
        assertThat(local).isGreaterThan(50);
        assertThat(notLocal).isGreaterThan(50);
    }

    // ------------------------------------------------------------------ oracles

    /** Whether some single-dim shard of the output, with the local view to its local shape, matches. */
    private static boolean anyViewCandidate(DistributedBrute x, BruteTensor globalOut, int n) {
        int[] out = globalOut.shape;
        for (int j = 0; j < out.length; j++) {
            for (int s = 1; s * n <= out[j]; s++) {
                if (out[j] % (s * n) != 0) {
                    continue;
                }
                ShardSpec candidate = DistSpec.shard(j, n, s);
                int[] localShape = ShardLayout.of("x", out, candidate, n).localShape();
                if (x.holdsAs(globalOut, candidate, t -> t.view(localShape))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether some shard of the narrowed dim (the other dims are whole on every rank, so the shard
     * cannot move) with one local narrow for all ranks matches.
     */
    private static boolean anyNarrowCandidate(DistributedBrute x, BruteTensor globalOut, int d, int n) {
        int length = globalOut.shape[d];
        int localSize = x.locals().getFirst().shape[d];
        for (int s = 1; s * n <= Math.max(length, 1); s++) {
            if (length % (s * n) != 0) {
                continue;
            }
            ShardSpec candidate = DistSpec.shard(d, n, s);
            int localLength = length / n;
            for (int localStart = 0; localStart + localLength <= localSize; localStart++) {
                int ls = localStart;
                if (x.holdsAs(globalOut, candidate, t -> t.narrow(d, ls, localLength))) {
                    return true;
                }
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ case generators

    /** Ordered factorisations into parts >= 2 (at most 4), each also with a 1 in front, in the middle and behind. */
    static List<int[]> outputs(int numel) {
        List<int[]> plain = new ArrayList<>();
        factorise(numel, new ArrayList<>(), plain);
        List<int[]> all = new ArrayList<>(plain);
        for (int[] f : plain) {
            all.add(insertOne(f, 0));
            all.add(insertOne(f, f.length));
            if (f.length >= 2) {
                all.add(insertOne(f, 1));
            }
        }
        all.add(new int[] {-1});
        all.add(new int[] {2, -1});
        return all;
    }

    private static void factorise(int rest, List<Integer> prefix, List<int[]> into) {
        if (rest == 1) {
            if (!prefix.isEmpty()) {
                into.add(prefix.stream().mapToInt(Integer::intValue).toArray());
            }
            return;
        }
        if (prefix.size() == 4) {
            return;
        }
        for (int f = 2; f <= rest; f++) {
            if (rest % f == 0) {
                prefix.add(f);
                factorise(rest / f, prefix, into);
                prefix.removeLast();
            }
        }
    }

    private static int[] insertOne(int[] f, int at) {
        int[] out = new int[f.length + 1];
        System.arraycopy(f, 0, out, 0, at);
        out[at] = 1;
        System.arraycopy(f, at, out, at + 1, f.length - at);
        return out;
    }

    /** One sharded dim: every dim, 1 to 4 parts, every stride that divides; some dims given negative. */
    static List<ShardSpec> singleSpecs(int[] shape) {
        List<ShardSpec> specs = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            for (int n = 1; n <= 4; n++) {
                for (int s : new int[] {1, 2, 3, 4, 6}) {
                    if (shape[d] % (n * s) == 0 && (n > 1 || s <= 3)) {
                        int given = (n + s) % 2 == 0 ? d - shape.length : d;
                        specs.add(DistSpec.shard(given, n, s));
                    }
                }
            }
        }
        return specs;
    }

    /** Two sharded dims of 2 or 3 parts each (tp 4 or 6), strides 1 or 2 on the first. */
    static List<ShardSpec> doubleSpecs(int[] shape) {
        List<ShardSpec> specs = new ArrayList<>();
        for (int d0 = 0; d0 < shape.length; d0++) {
            for (int d1 = 0; d1 < shape.length; d1++) {
                if (d0 == d1) {
                    continue;
                }
                for (int n0 : new int[] {2, 3}) {
                    for (int n1 : new int[] {2, 3}) {
                        for (int s0 : new int[] {1, 2}) {
                            if (shape[d0] % (n0 * s0) == 0 && shape[d1] % n1 == 0) {
                                specs.add(new ShardSpec(new int[] {d0, d1}, new int[] {n0, n1}, new int[] {s0, 1}));
                            }
                        }
                    }
                }
            }
        }
        return specs;
    }

    private static int[] divisorsOf(int value) {
        return java.util.stream.IntStream.rangeClosed(1, value).filter(v -> value % v == 0).toArray();
    }
}
