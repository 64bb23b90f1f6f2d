package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Shards;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The dispatcher's acceptance test: a GPT-2-style stack, sharded Megatron-style by specs only,
 * trains to the serial model's loss and gradients at tp = 1, 2, 4 (and dp = 2 x tp = 2), with
 * exactly two all-reduces per layer forward and two backward, and nothing gathered inside a block.
 */
class GptStackEquivalenceTest {
    static final int VOCAB = 37;
    static final int D = 16;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int B = 4;
    static final int T = 6;

    enum Embeddings { COLUMN, VOCAB }

    static GptStack model() {
        return new GptStack(VOCAB, 8, D, LAYERS, HEADS);
    }

    static IntTensor ids(int fromRow, int rows, int shift) {
        int[] v = new int[rows * T];
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < T; t++) {
                v[r * T + t] = ((fromRow + r) * 7 + (t + shift) * 5 + (fromRow + r) * t) % VOCAB;
            }
        }
        return IntTensor.of(v, rows, T);
    }

    /** Megatron's layout, set by hand here; the rules module does the same from JSON. */
    static void shard(GptStack m, int tp, Embeddings embeddings) {
        ComputeSpec keepSharded = ComputeSpec.tp1d().withOutputReplicate(false);
        ComputeSpec replicate = ComputeSpec.tp1d();
        m.namedParameters().forEach((name, p) -> {
            ColoParameter c = (ColoParameter) p;
            if (name.endsWith("attn.c_attn.weight")) {
                c.setSpec(DistSpec.shard(1, tp, 3), keepSharded);
            } else if (name.endsWith("attn.c_attn.bias")) {
                c.setSpec(DistSpec.shard(0, tp, 3), keepSharded);
            } else if (name.endsWith("mlp.c_fc.weight")) {
                c.setSpec(DistSpec.shard(1, tp), keepSharded);
            } else if (name.endsWith("mlp.c_fc.bias")) {
                c.setSpec(DistSpec.shard(0, tp), keepSharded);
            } else if (name.endsWith("c_proj.weight")) {
                c.setSpec(DistSpec.shard(0, tp), replicate);
            } else if (name.equals("wte.weight")) {
                if (embeddings == Embeddings.VOCAB) {
                    c.setSpec(DistSpec.shard(0, tp), keepSharded, true);
                } else {
                    c.setSpec(DistSpec.shard(1, tp), replicate);
                }
            } else if (name.equals("wpe.weight") && embeddings == Embeddings.COLUMN) {
                c.setSpec(DistSpec.shard(1, tp), replicate);
            }
        });
    }

    record RankResult(float loss, Map<String, Tensor> grads, Map<String, ShardLayout> layouts,
                      Map<String, int[]> valid, List<CommTrace.Record> trace, long shardedBytes, long replicatedBytes) {}

    static List<RankResult> runParallel(int tp, int dp, Embeddings embeddings) {
        return ThreadWorld.call(tp * dp, comm -> {
            GptStack m;
            InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu");
            try (ctx) {
                m = model();
            }
            shard(m, tp, embeddings);
            ctx.context().trace().enable(true);
            int dpRank = ctx.context().rank().dpRank();
            int rows = B / dp;
            Tensor loss = m.loss(ids(dpRank * rows, rows, 0), ids(dpRank * rows, rows, 1));
            loss.backward();
            DataParallel.averageGradients(m, ctx.context());
            Map<String, Tensor> grads = new LinkedHashMap<>();
            Map<String, ShardLayout> layouts = new LinkedHashMap<>();
            Map<String, int[]> valid = new LinkedHashMap<>();
            long sharded = 0;
            long replicated = 0;
            for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
                ColoParameter p = (ColoParameter) e.getValue();
                grads.put(e.getKey(), p.grad().copy());
                layouts.put(e.getKey(), io.colo4j.tensor.colo.ColoTensor.dist(p).layout(e.getKey()));
                valid.put(e.getKey(), io.colo4j.tensor.colo.ColoTensor.dist(p).validShape());
                if (p.isReplicated()) {
                    replicated += p.localNumel() * Float.BYTES;
                } else {
                    sharded += p.localNumel() * Float.BYTES;
                }
            }
            return new RankResult(loss.item(), grads, layouts, valid, ctx.context().trace().records(), sharded, replicated);
        });
    }

    @ParameterizedTest(name = "tp={0} dp={1} {2} embeddings")
    @CsvSource({"1,1,COLUMN", "2,1,COLUMN", "4,1,COLUMN", "1,1,VOCAB", "2,1,VOCAB", "4,1,VOCAB", "2,2,VOCAB", "2,2,COLUMN"})
    void lossAndEveryGradientMatchTheSerialModel(int tp, int dp, Embeddings embeddings) {
        GptStack serial = model();
        Tensor serialLoss = serial.loss(ids(0, B, 0), ids(0, B, 1));
        serialLoss.backward();

        List<RankResult> ranks = runParallel(tp, dp, embeddings);
        double meanLoss = ranks.stream().mapToDouble(RankResult::loss).sum() / ranks.size();
        assertThat(meanLoss).isCloseTo(serialLoss.item(), org.assertj.core.api.Assertions.within(1e-5 * Math.abs(serialLoss.item())));
        for (RankResult r : ranks) {
            // bit-identical across the tp ranks of one dp group
            assertThat(r.loss()).isEqualTo(ranks.get((ranks.indexOf(r) / tp) * tp).loss());
        }
        serial.namedParameters().forEach((name, p) -> {
            List<Tensor> locals = new ArrayList<>();
            for (int rank = 0; rank < tp; rank++) {
                locals.add(ranks.get(rank).grads().get(name));
            }
            ShardLayout layout = ranks.get(0).layouts().get(name);
            Tensor full = layout.effectiveKind() == PlacementKind.REPLICATE ? locals.get(0) : Shards.assemble(locals, layout);
            int[] valid = ranks.get(0).valid().get(name);
            for (int d = 0; d < valid.length; d++) {
                full = full.narrow(d, 0, valid[d]);
            }
            RelativeError.assertClose(name, full, p.grad(), 1e-5);
        });
    }

    @Test
    void twoAllReducesPerLayerEachWayAndNothingGatheredInsideABlock() {
        for (int tp : new int[] {2, 4}) {
            List<CommTrace.Record> trace = runParallel(tp, 1, Embeddings.VOCAB).get(0).trace();
            Pattern layer = Pattern.compile("^h\\.(\\d+)\\.");
            for (int l = 0; l < LAYERS; l++) {
                int forward = 0;
                int backward = 0;
                for (CommTrace.Record r : trace) {
                    Matcher m = layer.matcher(r.module());
                    if (!m.find() || Integer.parseInt(m.group(1)) != l) {
                        continue;
                    }
                    assertThat(r.collective()).as("inside layer %d: %s", l, r).isEqualTo(CollectiveKind.ALL_REDUCE);
                    if (r.phase() == CommTrace.Phase.FORWARD) {
                        forward++;
                    } else {
                        backward++;
                    }
                }
                assertThat(forward).as("tp=%d layer %d forward all-reduces in %s", tp, l, trace).isEqualTo(2);
                assertThat(backward).as("tp=%d layer %d backward all-reduces in %s", tp, l, trace).isEqualTo(2);
            }
        }
    }

    @Test
    void eachRankHoldsItsShareOfTheShardedWeights() {
        GptStack serial = model();
        long serialSharded = 0;
        long serialReplicated = 0;
        for (Map.Entry<String, Parameter> e : serial.namedParameters().entrySet()) {
            String n = e.getKey();
            boolean sharded = n.contains("c_attn") || n.contains("c_fc") || n.endsWith("c_proj.weight") || n.equals("wte.weight");
            if (sharded) {
                serialSharded += e.getValue().numel() * Float.BYTES;
            } else {
                serialReplicated += e.getValue().numel() * Float.BYTES;
            }
        }
        for (int tp : new int[] {2, 4}) {
            RankResult r = runParallel(tp, 1, Embeddings.VOCAB).get(0);
            long paddedVocab = (long) Math.ceilDiv(VOCAB, tp) * tp;
            long padding = (paddedVocab - VOCAB) * D * Float.BYTES;
            assertThat(r.shardedBytes()).as("tp=%d", tp).isEqualTo((serialSharded + padding) / tp);
            assertThat(r.replicatedBytes()).isEqualTo(serialReplicated);
        }
    }
}
