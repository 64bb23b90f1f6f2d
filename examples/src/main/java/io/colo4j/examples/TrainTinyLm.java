package io.colo4j.examples;

import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains {@link TinyLm} on tp in-JVM ranks (one thread each) with its rules file, as a user's own program would:
 * build the model inside an {@link InitContext}, shard it with {@link ShardingRules#apply}, then an ordinary
 * AdamW loop; the ranks print nothing and rank 0's losses come back. {@code java ... TrainTinyLm [tp [steps]]}.
 */
public final class TrainTinyLm {
    private TrainTinyLm() {}

    /** The rules beside {@link TinyLm}: up column, down row, the embedding (tied to the head) vocab-parallel. */
    public static final ShardingRules RULES = ShardingRules.fromResource(TinyLm.class, "tiny-lm.rules.json");

    /** Sizes and hyper-parameters; {@link #DEFAULT} trains in well under a second. */
    public record Config(int vocab, int d, int batch, int seq, int steps, double lr, long seed) {
        public static final Config DEFAULT = new Config(24, 8, 4, 16, 8, 0.02, 7);

        public Config withSteps(int n) {
            return new Config(vocab, d, batch, seq, n, lr, seed);
        }
    }

    /** Rank 0's loss per step, and the collectives one rank ran over the run (none at all if the rules shard nothing). */
    public record Result(List<Float> losses, int collectives) {}

    /** Trains on {@code tp} ThreadWorld ranks with {@link #RULES}. */
    public static Result train(int tp, Config c) {
        return ThreadWorld.call(tp, comm -> {
            TinyLm model;
            CommTrace trace;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                model = new TinyLm(c.vocab(), c.d());
                trace = ctx.context().trace();
            }
            RULES.apply(model);
            trace.enable(true);
            List<Float> losses = loop(model, c);
            return new Result(losses, trace.records().size());
        }).get(0);
    }

    /** The same steps on one plain, unsharded model: what {@link #train} must reproduce at any tp. */
    public static List<Float> trainSerial(Config c) {
        return loop(new TinyLm(c.vocab(), c.d()), c);
    }

    /** The optimizer is built after {@code apply}, over the sharded parameters (built before, it is refused). */
    private static List<Float> loop(TinyLm model, Config c) {
        AdamW opt = new AdamW(model.namedParameters(), AdamW.Options.defaults(c.lr()));
        List<Float> losses = new ArrayList<>();
        for (int step = 0; step < c.steps(); step++) {
            try (MemoryScope _ = MemoryScope.open()) { // the step's activations are freed here; gradients live on
                var loss = model.loss(tokens(c, step, 0), tokens(c, step, 1), DropoutSeeds.step(c.seed(), step));
                loss.backward();
                losses.add(loss.item());
            }
            opt.step();
            opt.zeroGrad();
        }
        return losses;
    }

    /**
     * Generated data that a next-token model can learn: each row counts up the vocabulary by its own stride from a
     * start that moves with the step, so the next token follows from the current one. {@code shift} 1 gives targets.
     */
    static IntTensor tokens(Config c, int step, int shift) {
        int[] ids = new int[c.batch() * c.seq()];
        for (int r = 0; r < c.batch(); r++) {
            int stride = 1 + r % 3;
            for (int t = 0; t < c.seq(); t++) {
                ids[r * c.seq() + t] = Math.floorMod(step * 5 + r * 11 + (t + shift) * stride, c.vocab());
            }
        }
        return IntTensor.of(ids, c.batch(), c.seq());
    }

    public static void main(String[] args) {
        int tp = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        Config c = args.length > 1 ? Config.DEFAULT.withSteps(Integer.parseInt(args[1])) : Config.DEFAULT;
        System.out.println("TinyLm (vocab " + c.vocab() + ", d " + c.d() + ") on tp " + tp + " in-JVM ranks, rules "
                + RULES.source());
        Result r = train(tp, c);
        for (int step = 0; step < r.losses().size(); step++) {
            System.out.printf("step %d loss %.6f%n", step, r.losses().get(step));
        }
        System.out.println(r.collectives() + " collectives on each rank");
    }
}
