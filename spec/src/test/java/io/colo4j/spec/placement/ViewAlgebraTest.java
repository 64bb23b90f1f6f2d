package io.colo4j.spec.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ViewAlgebraTest {

    // ------------------------------------------------------------------ helpers over the brute model

    static DistributedBrute view(DistributedBrute x, int... globalOut) {
        LocalView plan = ViewAlgebra.view(x.name(), x.shape(), x.spec(), x.groupSize(), globalOut).orThrow();
        int[] global = plan.globalShape();
        int[] local = plan.localShape();
        return x.apply(t -> t.view(global), plan.outputSpec(), t -> t.view(local));
    }

    static DistributedBrute permute(DistributedBrute x, int... perm) {
        DistSpec out = ViewAlgebra.permute(x.name(), x.spec(), x.shape().length, perm);
        int[] p = perm.clone();
        for (int i = 0; i < p.length; i++) {
            p[i] = p[i] < 0 ? p[i] + p.length : p[i];
        }
        return x.apply(t -> t.permute(p), out, t -> t.permute(p));
    }

    static DistributedBrute narrow(DistributedBrute x, int dim, int start, int length) {
        LocalNarrow plan = ViewAlgebra.narrow(x.name(), x.shape(), x.spec(), x.groupSize(), dim, start, length)
                .orThrow();
        int d = plan.dim();
        int globalStart = start < 0 ? start + x.shape()[d] : start;
        DistributedBrute out = x.apply(t -> t.narrow(d, globalStart, length), plan.outputSpec(),
                t -> t.narrow(d, plan.localStart(), plan.localLength()));
        assertThat(out.locals().getFirst().shape).containsExactly(plan.localShape());
        return out;
    }

    static DistributedBrute cat(int dim, DistributedBrute... xs) {
        List<int[]> shapes = new ArrayList<>();
        List<DistSpec> specs = new ArrayList<>();
        for (DistributedBrute x : xs) {
            shapes.add(x.shape());
            specs.add(x.spec());
        }
        int tp = xs[0].groupSize();
        LocalCat plan = ViewAlgebra.cat("cat", shapes, specs, tp, dim).orThrow();
        List<BruteTensor> locals = new ArrayList<>();
        List<BruteTensor> globals = new ArrayList<>();
        for (int r = 0; r < tp; r++) {
            List<BruteTensor> parts = new ArrayList<>();
            for (DistributedBrute x : xs) {
                parts.add(x.locals().get(r));
            }
            locals.add(BruteTensor.cat(parts, plan.dim()));
        }
        for (DistributedBrute x : xs) {
            globals.add(x.global());
        }
        DistributedBrute out = new DistributedBrute("cat", BruteTensor.cat(globals, plan.dim()), plan.outputSpec(), tp,
                locals);
        out.assertConsistent();
        assertThat(out.global().shape).containsExactly(plan.globalShape());
        assertThat(locals.getFirst().shape).containsExactly(plan.localShape());
        return out;
    }

    static ShardSpec shard(int dim, int parts) {
        return DistSpec.shard(dim, parts);
    }

    static ShardSpec shard(int dim, int parts, int stride) {
        return DistSpec.shard(dim, parts, stride);
    }

    // ------------------------------------------------------------------ GPT-2 attention

    /** GPT-2's attention from the column-parallel c_attn output back to the row-parallel c_proj input. */
    @ParameterizedTest(name = "tp {0}, {1} heads")
    @CsvSource({"1,4", "2,4", "3,6", "4,4", "4,8"})
    void gpt2AttentionPathStaysLocalFromFusedQkvToTheProjectionInput(int tp, int heads) {
        int b = 2;
        int t = 3;
        int hd = 2;
        int d = heads * hd;
        DistributedBrute qkv = DistributedBrute.of("attn.c_attn.out", new int[] {b, t, 3 * d}, shard(-1, tp, 3), tp);
        qkv.assertConsistent();

        List<DistributedBrute> heads4d = new ArrayList<>();
        List<DistributedBrute> splits = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // q, k, v = qkv.split(D, dim=-1)
            DistributedBrute part = narrow(qkv, -1, i * d, d);
            assertThat(part.spec()).isEqualTo(shard(2, tp));
            splits.add(part);
            // .view(B, T, nHead, headDim): the local view has nHead / tp heads
            DistributedBrute split = view(part, b, t, heads, hd);
            assertThat(split.spec()).isEqualTo(shard(2, tp));
            assertThat(split.locals().getFirst().shape).containsExactly(b, t, heads / tp, hd);
            // .transpose(1, 2)
            DistributedBrute transposed = permute(split, 0, 2, 1, 3);
            assertThat(transposed.spec()).isEqualTo(shard(1, tp));
            assertThat(transposed.shape()).containsExactly(b, heads, t, hd);
            heads4d.add(transposed);
        }
        // y = att @ v keeps v's layout; y.transpose(1, 2).contiguous().view(B, T, C)
        DistributedBrute y = permute(heads4d.get(2), 0, 2, 1, 3);
        assertThat(y.spec()).isEqualTo(shard(2, tp));
        DistributedBrute merged = view(y, b, t, -1);
        assertThat(merged.spec()).isEqualTo(shard(2, tp));
        assertThat(merged.shape()).containsExactly(b, t, d);
        assertThat(merged.locals().getFirst().shape).containsExactly(b, t, d / tp);

        // And torch.cat((q, k, v), -1) of the plain shards is the fused stride-3 layout, locally the same tensor.
        DistributedBrute fused = cat(-1, splits.get(0), splits.get(1), splits.get(2));
        assertThat(fused.spec()).isEqualTo(shard(2, tp, 3));
        assertThat(fused.locals()).isEqualTo(qkv.locals());
    }

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void fusedQkvViewsTurnTheStrideIntoADim(int tp) {
        int heads = 12;
        int hd = 2;
        int d = heads * hd;
        DistributedBrute qkv = DistributedBrute.of("qkv", new int[] {2, 3, 3 * d}, shard(-1, tp, 3), tp);

        DistributedBrute split3 = view(qkv, 2, 3, 3, d);
        assertThat(split3.spec()).isEqualTo(shard(3, tp));
        DistributedBrute split5 = view(qkv, 2, 3, 3, heads, hd);
        assertThat(split5.spec()).isEqualTo(shard(3, tp));
        assertThat(split5.locals().getFirst().shape).containsExactly(2, 3, 3, heads / tp, hd);
        DistributedBrute back = view(split3, 2, 3, 3 * d);
        assertThat(back.spec()).isEqualTo(shard(2, tp, 3));
        assertThat(back.locals()).isEqualTo(qkv.locals());
        DistributedBrute back5 = view(split5, 2, 3, -1);
        assertThat(back5.spec()).isEqualTo(shard(2, tp, 3));
        // (3, H) sharded on H, then heads first: permute (0, 1, 3, 2, 4) keeps it local.
        DistributedBrute headsFirst = permute(split5, 0, 1, 3, 2, 4);
        assertThat(headsFirst.spec()).isEqualTo(shard(2, tp));
        DistributedBrute flatHeads = view(headsFirst, 2, 3, 3 * d);
        assertThat(flatHeads.spec()).isEqualTo(shard(2, tp));
    }

    // ------------------------------------------------------------------ flatten / unflatten / leading dims

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void flattenAndUnflattenKeepALastDimShard(int tp) {
        DistributedBrute x = DistributedBrute.of("h", new int[] {2, 3, 12}, shard(-1, tp), tp);
        DistributedBrute flat = view(x, 6, 12);
        assertThat(flat.spec()).isEqualTo(shard(1, tp));
        DistributedBrute unflat = view(flat, 2, 3, 12);
        assertThat(unflat.spec()).isEqualTo(shard(2, tp));
        assertThat(unflat.locals()).isEqualTo(x.locals());
        // Flattening everything merges the shard under the outer dims: a stride of B * T.
        DistributedBrute all = view(x, -1);
        assertThat(all.spec()).isEqualTo(shard(0, tp, 6));
        DistributedBrute unsqueezed = view(x, 2, 1, 3, 12, 1);
        assertThat(unsqueezed.spec()).isEqualTo(shard(3, tp));
        DistributedBrute squeezed = view(unsqueezed, 2, 3, 12);
        assertThat(squeezed.spec()).isEqualTo(shard(2, tp));
    }

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 4})
    void leadingDimShardMovesToTheFirstNonOneDimWhenItDivides(int tp) {
        DistributedBrute x = DistributedBrute.of("tokens", new int[] {8, 5}, shard(0, tp), tp);
        assertThat(view(x, 1, 8, 5).spec()).isEqualTo(shard(1, tp));
        assertThat(view(x, 4, 2, 5).spec()).isEqualTo(shard(0, tp));
        assertThat(view(x, 4, 10).spec()).isEqualTo(shard(0, tp));
        assertThat(view(x, 40).spec()).isEqualTo(shard(0, tp));
        LocalPlan<LocalView> plan = ViewAlgebra.view("tokens", new int[] {8, 5}, shard(0, tp), tp, new int[] {2, 4, 5});
        if (tp == 4) {
            assertThat(plan).isInstanceOf(NotLocal.class);
            NotLocal<LocalView> notLocal = (NotLocal<LocalView>) plan;
            assertThat(notLocal.requiredInputSpec()).isEqualTo(DistSpec.replicate());
            assertThat(notLocal.reason()).contains("tokens", "[8, 5]", "[2, 4, 5]", "4 ranks",
                    shard(0, 4).toString(), "output dim 0 (size 2)");
        } else {
            assertThat(view(x, 2, 4, 5).spec()).isEqualTo(shard(0, tp));
        }
    }

    @Test
    void mergingUnderAnOuterDimGivesAStridedShard() {
        DistributedBrute x = DistributedBrute.of("y", new int[] {2, 4, 6}, shard(2, 2), 2);
        DistributedBrute merged = view(x, 2, 24);
        assertThat(merged.spec()).isEqualTo(shard(1, 2, 4));
        assertThat(view(merged, 2, 4, 6).spec()).isEqualTo(shard(2, 2));
        // A strided input merged under an outer dim multiplies the strides.
        DistributedBrute strided = DistributedBrute.of("kv", new int[] {3, 8}, shard(1, 2, 2), 2);
        assertThat(view(strided, 24).spec()).isEqualTo(shard(0, 2, 6));
        // And a shard that splits into (s, rest) with a stride left over keeps a stride.
        DistributedBrute fused = DistributedBrute.of("qkv", new int[] {12}, shard(0, 2, 3), 2);
        assertThat(view(fused, 6, 2).spec()).isEqualTo(shard(0, 2, 3));
    }

    @Test
    void viewsThatWouldCutAShardUnevenlyAreNotLocal() {
        // [B, T, D] sharded on D by 4 -> [B, T, 2, D/2]: 4 parts do not fit in 2.
        LocalPlan<LocalView> plan = ViewAlgebra.view("h", new int[] {2, 3, 8}, shard(-1, 4), 4, new int[] {2, 3, 2, 4});
        assertThat(plan.isLocal()).isFalse();
        assertThat(plan).isInstanceOfSatisfying(NotLocal.class, n -> {
            assertThat(n.op()).isEqualTo("view");
            assertThat(n.requiredInputSpecs()).containsExactly(DistSpec.replicate());
            assertThat(n.reason()).contains("h", "[2, 3, 8]", "[2, 3, 2, 4]", shard(-1, 4).toString(), "4 ranks");
        });
        assertThatThrownBy(plan::orThrow).isInstanceOf(SpecException.class).hasMessageContaining("[2, 3, 2, 4]");
        // A cut that falls inside another output dim: [6, 4] sharded on dim 1 -> [4, 6].
        assertThat(ViewAlgebra.view("w", new int[] {6, 4}, shard(1, 2), 2, new int[] {4, 6}).isLocal()).isFalse();
        // The same view of the replica is local.
        LocalView replica = ViewAlgebra.view("w", new int[] {6, 4}, DistSpec.replicate(), 2, new int[] {4, 6})
                .orThrow();
        assertThat(replica.localShape()).containsExactly(4, 6);
    }

    @Test
    void viewSwitchNeedsOnlyLocalViewAndNotLocal() {
        LocalPlan<LocalView> plan = ViewAlgebra.view("x", new int[] {4, 6}, shard(0, 2), 2, new int[] {24});
        String what = switch (plan) {
            case LocalView v -> "local " + v.outputSpec();
            case NotLocal<LocalView> n -> "redistribute to " + n.requiredInputSpec();
        };
        assertThat(what).isEqualTo("local " + shard(0, 2));
    }

    // ------------------------------------------------------------------ replicate / partial

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void replicateAndPartialPassThroughEveryOp(int tp) {
        for (DistSpec spec : List.of(DistSpec.replicate(), DistSpec.partialSum())) {
            DistributedBrute x = DistributedBrute.of("x", new int[] {2, 3, 4}, spec, tp);
            x.assertConsistent();
            DistributedBrute v = view(x, 6, -1);
            assertThat(v.spec()).isEqualTo(spec);
            assertThat(v.locals().getFirst().shape).containsExactly(6, 4);
            assertThat(permute(v, 1, 0).spec()).isEqualTo(spec);
            DistributedBrute n = narrow(x, 1, 1, 2);
            assertThat(n.spec()).isEqualTo(spec);
            DistributedBrute y = DistributedBrute.of("y", new int[] {2, 5, 4}, spec, tp, 7_000);
            assertThat(cat(1, x, y).spec()).isEqualTo(spec);
            assertThat(cat(-2, x, y).spec()).isEqualTo(spec);
        }
    }

    // ------------------------------------------------------------------ permute

    @Test
    void permuteMovesShardedDimsAndKeepsStrides() {
        assertThat(ViewAlgebra.permute(shard(-1, 4, 3), 3, new int[] {2, 0, 1})).isEqualTo(shard(0, 4, 3));
        assertThat(ViewAlgebra.permute(new ShardSpec(new int[] {0, -1}, new int[] {2, 2}), 3, new int[] {-1, 1, 0}))
                .isEqualTo(new ShardSpec(new int[] {2, 0}, new int[] {2, 2}));
        assertThat(ViewAlgebra.transpose(shard(1, 2), 4, 1, -2)).isEqualTo(shard(2, 2));
        assertThat(ViewAlgebra.permute(DistSpec.partialSum(), 2, new int[] {1, 0})).isEqualTo(DistSpec.partialSum());
        DistributedBrute x = DistributedBrute.of("x", new int[] {4, 3, 6},
                new ShardSpec(new int[] {0, 2}, new int[] {2, 2}, new int[] {1, 3}), 4);
        DistributedBrute p = permute(x, 2, 0, 1);
        assertThat(p.spec()).isEqualTo(new ShardSpec(new int[] {1, 0}, new int[] {2, 2}, new int[] {1, 3}));
    }

    @Test
    void permuteRejectsBadPermutations() {
        assertThatThrownBy(() -> ViewAlgebra.permute("att", shard(1, 2), 3, new int[] {0, 0, 1}))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("att").hasMessageContaining("appears twice")
                .hasMessageContaining(shard(1, 2).toString());
        assertThatThrownBy(() -> ViewAlgebra.permute("att", shard(1, 2), 3, new int[] {0, 1}))
                .isInstanceOf(SpecException.class).hasMessageContaining("one entry per dim");
        assertThatThrownBy(() -> ViewAlgebra.permute("att", shard(5, 2), 3, new int[] {0, 1, 2}))
                .isInstanceOf(SpecException.class).hasMessageContaining("dim 5 is out of range");
        assertThatThrownBy(() -> ViewAlgebra.permute("att", shard(1, 2), 3, new int[] {0, 1, 3}))
                .isInstanceOf(SpecException.class).hasMessageContaining("dim 3 is out of range");
    }

    // ------------------------------------------------------------------ narrow

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void narrowOfAnUnshardedDimKeepsSpecAndArguments(int tp) {
        DistributedBrute x = DistributedBrute.of("x", new int[] {5, 12}, shard(-1, tp), tp);
        LocalNarrow plan = ViewAlgebra.narrow("x", new int[] {5, 12}, shard(-1, tp), tp, 0, -3, 2).orThrow();
        assertThat(plan.localStart()).isEqualTo(2);
        assertThat(plan.localLength()).isEqualTo(2);
        assertThat(plan.outputSpec()).isEqualTo(shard(1, tp));
        assertThat(narrow(x, 0, 1, 3).spec()).isEqualTo(shard(1, tp));
    }

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void narrowOfWholeBlocksOfAStridedShardIsLocal(int tp) {
        int d = 12;
        DistributedBrute qkv = DistributedBrute.of("qkv", new int[] {2, 3 * d}, shard(1, tp, 3), tp);
        DistributedBrute kv = narrow(qkv, 1, d, 2 * d);
        assertThat(kv.spec()).isEqualTo(shard(1, tp, 2));
        DistributedBrute v = narrow(kv, -1, d, d);
        assertThat(v.spec()).isEqualTo(shard(1, tp));
        DistributedBrute all = narrow(qkv, 1, 0, 3 * d);
        assertThat(all.spec()).isEqualTo(shard(1, tp, 3));
        DistributedBrute none = narrow(qkv, 1, 5, 0);
        assertThat(none.shape()).containsExactly(2, 0);
    }

    @Test
    void narrowsThatCutInsideABlockAreNotLocal() {
        LocalPlan<LocalNarrow> half = ViewAlgebra.narrow("h", new int[] {3, 8}, shard(-1, 2), 2, -1, 0, 4);
        assertThat(half).isInstanceOfSatisfying(NotLocal.class, n -> {
            assertThat(n.op()).isEqualTo("narrow");
            assertThat(n.requiredInputSpec()).isEqualTo(DistSpec.replicate());
            assertThat(n.reason()).contains("h", "[3, 8]", shard(-1, 2).toString(), "2 ranks", "whole blocks");
        });
        LocalPlan<LocalNarrow> partOfQ = ViewAlgebra.narrow("qkv", new int[] {2, 24}, shard(1, 2, 3), 2, 1, 0, 4);
        assertThat(partOfQ.isLocal()).isFalse();
        LocalPlan<LocalNarrow> straddling = ViewAlgebra.narrow("qkv", new int[] {2, 24}, shard(1, 2, 3), 2, 1, 4, 8);
        assertThat(straddling.isLocal()).isFalse();
        // After redistributing to the required spec the same narrow is local.
        DistributedBrute replica = DistributedBrute.of("h", new int[] {3, 8}, DistSpec.replicate(), 2);
        assertThat(narrow(replica, -1, 0, 4).spec()).isEqualTo(DistSpec.replicate());
    }

    // ------------------------------------------------------------------ cat

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void catOfShardsAlongTheShardedDimAddsStrides(int tp) {
        DistributedBrute q = DistributedBrute.of("q", new int[] {2, 12}, shard(1, tp), tp, 0);
        DistributedBrute k = DistributedBrute.of("k", new int[] {2, 12}, shard(1, tp), tp, 1_000);
        DistributedBrute v = DistributedBrute.of("v", new int[] {2, 12}, shard(-1, tp), tp, 2_000);
        assertThat(cat(1, q, k, v).spec()).isEqualTo(shard(1, tp, 3));
        // q plus a stride-2 kv with blocks of the same length: stride 3 again.
        DistributedBrute kv = DistributedBrute.of("kv", new int[] {2, 24}, shard(1, tp, 2), tp, 3_000);
        assertThat(cat(-1, q, kv).spec()).isEqualTo(shard(1, tp, 3));
        // Along an unsharded dim the spec stays.
        DistributedBrute q2 = DistributedBrute.of("q2", new int[] {5, 12}, shard(1, tp), tp, 4_000);
        assertThat(cat(0, q, q2).spec()).isEqualTo(shard(1, tp));
    }

    @Test
    void catsThatAreNotLocal() {
        LocalPlan<LocalCat> mixed = ViewAlgebra.cat("qkv", List.of(new int[] {2, 8}, new int[] {2, 8}),
                List.of(shard(1, 2), DistSpec.replicate()), 2, 1);
        assertThat(mixed).isInstanceOfSatisfying(NotLocal.class, n -> {
            assertThat(n.op()).isEqualTo("cat");
            assertThat(n.requiredInputSpecs()).containsExactly(DistSpec.replicate(), DistSpec.replicate());
            assertThat(n.reason()).contains("qkv", "[2, 8]", shard(1, 2).toString(), "2 ranks", "one kind");
        });
        LocalPlan<LocalCat> unequalBlocks = ViewAlgebra.cat("qk", List.of(new int[] {2, 8}, new int[] {2, 4}),
                List.of(shard(1, 2), shard(1, 2)), 2, 1);
        assertThat(unequalBlocks.isLocal()).isFalse();
        assertThat(((NotLocal<LocalCat>) unequalBlocks).reason()).contains("[8, 4]");
        LocalPlan<LocalCat> otherDims = ViewAlgebra.cat("ab", List.of(new int[] {4, 8}, new int[] {4, 8}),
                List.of(shard(0, 2), shard(1, 2)), 2, 0);
        assertThat(otherDims.isLocal()).isFalse();
        LocalPlan<LocalCat> partialAndReplica = ViewAlgebra.cat("pr", List.of(new int[] {4, 8}, new int[] {4, 8}),
                List.of(DistSpec.partialSum(), DistSpec.replicate()), 2, 0);
        assertThat(partialAndReplica.isLocal()).isFalse();
        // Over one rank everything is whole, so any mix is local and comes out replicated.
        LocalCat one = ViewAlgebra.cat("pr", List.of(new int[] {4, 8}, new int[] {4, 8}),
                List.of(DistSpec.partialSum(), shard(0, 1)), 1, 0).orThrow();
        assertThat(one.outputSpec()).isEqualTo(DistSpec.replicate());
        assertThat(one.localShape()).containsExactly(8, 8);
    }

    // ------------------------------------------------------------------ several sharded dims

    @Test
    void severalShardedDimsAreFollowedIndependently() {
        ShardSpec twoByTwo = new ShardSpec(new int[] {0, 1}, new int[] {2, 2});
        DistributedBrute x = DistributedBrute.of("x", new int[] {4, 6}, twoByTwo, 4);
        assertThat(view(x, 2, 2, 2, 3).spec()).isEqualTo(new ShardSpec(new int[] {0, 2}, new int[] {2, 2}));
        assertThat(view(x, 2, 12).spec())
                .isEqualTo(new ShardSpec(new int[] {0, 1}, new int[] {2, 2}, new int[] {1, 2}));
        // Both cuts would land on the one output dim.
        assertThat(ViewAlgebra.view("x", new int[] {4, 6}, twoByTwo, 4, new int[] {24}).isLocal()).isFalse();
        ShardSpec reversed = new ShardSpec(new int[] {1, 0}, new int[] {2, 2});
        DistributedBrute y = DistributedBrute.of("y", new int[] {4, 6}, reversed, 4);
        assertThat(view(y, 2, 2, 2, 3).spec()).isEqualTo(new ShardSpec(new int[] {2, 0}, new int[] {2, 2}));
        assertThat(ViewAlgebra.view("x", new int[] {4, 6}, twoByTwo, 4, new int[] {2, 2, 3, 2}).isLocal()).isFalse();
    }

    // ------------------------------------------------------------------ errors

    @Test
    void badArgumentsThrowWithTheTensorShapesSpecAndGroup() {
        ShardSpec spec = shard(-1, 2);
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 8}, spec, 2, new int[] {-1, 2, -1}))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("attn.q").hasMessageContaining("[2, 3, 8]").hasMessageContaining("[-1, 2, -1]")
                .hasMessageContaining(spec.toString()).hasMessageContaining("2 ranks")
                .hasMessageContaining("only one dim can be -1");
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 8}, spec, 2, new int[] {2, 3, 7}))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("attn.q").hasMessageContaining("[2, 3, 7]").hasMessageContaining("2 ranks")
                .hasMessageContaining("42 elements, the input has 48");
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 8}, spec, 2, new int[] {5, -1}))
                .isInstanceOf(SpecException.class).hasMessageContaining("cannot infer the -1 dim");
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 8}, spec, 2, new int[] {0, -1}))
                .isInstanceOf(SpecException.class).hasMessageContaining("cannot infer the -1 dim");
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 8}, spec, 2, new int[] {6, -2}))
                .isInstanceOf(SpecException.class).hasMessageContaining("invalid size -2");
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 8}, spec, 4, new int[] {6, 8}))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("attn.q").hasMessageContaining("4 ranks").hasMessageContaining("not 4");
        assertThatThrownBy(() -> ViewAlgebra.view("attn.q", new int[] {2, 3, 7}, spec, 2, new int[] {42}))
                .isInstanceOf(SpecException.class).hasMessageContaining("not divisible");
        assertThatThrownBy(() -> ViewAlgebra.narrow("attn.q", new int[] {2, 3, 8}, spec, 2, 1, 2, 2))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("attn.q").hasMessageContaining("[2, 3, 8]").hasMessageContaining("2 ranks")
                .hasMessageContaining(spec.toString()).hasMessageContaining("out of range");
        assertThatThrownBy(() -> ViewAlgebra.narrow("attn.q", new int[] {2, 3, 8}, spec, 2, 3, 0, 1))
                .isInstanceOf(SpecException.class).hasMessageContaining("dim 3 is out of range");
        assertThatThrownBy(() -> ViewAlgebra.narrow("attn.q", new int[] {2, 3, 8}, spec, 2, 2, 0, -1))
                .isInstanceOf(SpecException.class).hasMessageContaining("out of range");
        assertThatThrownBy(() -> ViewAlgebra.cat("qkv", List.of(new int[] {2, 8}, new int[] {3, 8}),
                        List.of(spec, spec), 2, 1))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("qkv").hasMessageContaining("[3, 8]").hasMessageContaining("2 ranks")
                .hasMessageContaining("only dim 1 may differ");
        assertThatThrownBy(() -> ViewAlgebra.cat("qkv", List.of(new int[] {2, 8}), List.of(spec, spec), 2, 1))
                .isInstanceOf(SpecException.class).hasMessageContaining("one spec per input");
        assertThatThrownBy(() -> ViewAlgebra.cat("qkv", List.of(new int[] {2, 8}, new int[] {2, 8, 1}),
                        List.of(DistSpec.replicate(), DistSpec.replicate()), 2, 0))
                .isInstanceOf(SpecException.class).hasMessageContaining("3-d");
    }
}
