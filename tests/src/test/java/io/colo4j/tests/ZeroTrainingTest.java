package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.cli.Colo4jCommand;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.Optimizer;
import io.colo4j.ops.optim.ZeroAdamW;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.sizing.DpGradientSync;
import io.colo4j.zoo.memory.MemoryPerRank;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * ZeRO-1/2 (AdamW moments, and for stage 2 gradients, sharded over dp) trains to plain data parallelism's
 * losses at tp = 1, 2, 4 (stage 1 bit for bit; stage 2 sums the clipping norm in another order), pads the
 * last chunk at an odd dp, checkpoints in the unsharded format, and holds per rank what the sizing formula
 * says: (sharded/tp + replicated) x (1 + 1 + 2/dp).
 */
class ZeroTrainingTest {
    private static final double RTOL = 1e-5;

    private static List<Double> train(Path save, String... extra) throws IOException {
        return run(save, 6, extra).losses();
    }

    private static TrainRuns.Run run(Path save, int steps, String... extra) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("--model", "gpt2", "--config", "tiny", "--steps", String.valueOf(steps),
                "--batch", "6", "--seq", "16", "--log-every", "6"));
        args.addAll(List.of(extra));
        return TrainRuns.train(save, args);
    }

    private static void assertClose(List<Double> actual, List<Double> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i)).as("loss of step %d", i).isCloseTo(expected.get(i), within(RTOL * Math.abs(expected.get(i))));
        }
    }

    @ParameterizedTest(name = "tp {0}, dp 2")
    @ValueSource(ints = {1, 2, 4})
    void zeroOneIsBitIdenticalAndZeroTwoMatchesPlainDataParallel(int tp, @TempDir Path dir) throws IOException {
        String t = String.valueOf(tp);
        List<Double> plain = train(dir.resolve("plain"), "--tp", t, "--dp", "2");
        assertThat(train(dir.resolve("zero1"), "--tp", t, "--dp", "2", "--zero", "1")).isEqualTo(plain);
        assertClose(train(dir.resolve("zero2"), "--tp", t, "--dp", "2", "--zero", "2"), plain);
    }

    @Test
    void anOddDpPadsTheLastChunkAndStillMatches(@TempDir Path dir) throws IOException {
        List<Double> plain = train(dir.resolve("plain"), "--dp", "3");
        assertThat(train(dir.resolve("zero1"), "--dp", "3", "--zero", "1")).isEqualTo(plain);
        assertClose(train(dir.resolve("zero2"), "--dp", "3", "--zero", "2"), plain);
    }

    @Test
    void zeroWithoutDataParallelRanksIsRefused() {
        StringWriter err = new StringWriter();
        CommandLine cli = Colo4jCommand.commandLine();
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("train", "--config", "tiny", "--steps", "1", "--tp", "2", "--zero", "1");
        assertThat(exit).isNotZero();
        assertThat(err.toString()).contains("--zero 1 shards optimizer state over the data-parallel ranks; it needs --dp > 1");
    }

    /**
     * A ZeRO-2 checkpoint holds whole moments per parameter: resumed at ZeRO-1 over another tp with no step left,
     * each rank keeps its chunk and the run saves exactly the checkpoint's weights, moments, step counts and
     * history; resumed serially and at tp 4 x dp 2 ZeRO-1, steps 3..5 train to the uninterrupted losses.
     */
    @Test
    void aZeroCheckpointIsUnshardedAndResumesAtAnotherLayout(@TempDir Path dir) throws IOException {
        List<Double> serial = train(dir.resolve("serial"));
        List<Double> zero2 = train(dir.resolve("zero2"), "--tp", "2", "--dp", "2", "--zero", "2", "--save-every", "3");
        assertClose(zero2, serial);
        Path checkpoint = dir.resolve("zero2").resolve("checkpoint-3");

        TrainRuns.Run restored = run(dir.resolve("restored"), 3, "--tp", "4", "--dp", "2", "--zero", "1",
                "--resume", checkpoint.toString());
        assertThat(restored.log()).contains(TrainRuns.resumedAt(checkpoint, 3)).doesNotContain("trained steps");
        TrainRuns.assertRestoredState(dir.resolve("restored").resolve("checkpoint-3"), checkpoint);

        // the same files a plain run writes: whole moments per parameter, whatever the tp, dp or stage
        TrainRuns.Run serialResumed = run(dir.resolve("serial-resumed"), 6, "--resume", checkpoint.toString());
        assertThat(serialResumed.log()).contains(TrainRuns.resumedAt(checkpoint, 3), TrainRuns.trainedSteps(3, 5));
        assertClose(serialResumed.losses(), serial);
        TrainRuns.Run zero1Resumed = run(dir.resolve("zero1-resumed"), 6, "--tp", "4", "--dp", "2", "--zero", "1",
                "--resume", checkpoint.toString());
        assertThat(zero1Resumed.log()).contains(TrainRuns.resumedAt(checkpoint, 3), TrainRuns.trainedSteps(3, 5));
        assertClose(zero1Resumed.losses(), serial);
    }

    /**
     * Measured: the off-heap bytes the ranks hold after backward (parameters + whole gradients + AdamW
     * state), averaged over the ranks of one JVM, against the formula, at tp 2 x dp 2 with and without ZeRO.
     */
    @ParameterizedTest(name = "zero {0}")
    @ValueSource(ints = {0, 1, 2})
    void perRankMemoryFollowsTheFormula(int stage) throws InterruptedException {
        int tp = 2;
        int dp = 2;
        Gpt2Config cfg = Gpt2Config.of(1024, 32, 256, 4, 4).withDropout(0f);
        IntTensor x = ids(131, 7, 1024);
        long before = settledLiveBytes();
        List<Object[]> perRank = ThreadWorld.call(tp * dp, comm -> {
            Sharded sharded = Sharded.of(cfg, comm, tp, dp);
            Gpt2Model model = sharded.model();
            AdamW.Options options = AdamW.Options.defaults(1e-3);
            Optimizer optimizer = stage == 0 ? new AdamW(model.namedParameters(), options)
                    : new ZeroAdamW(model.namedParameters(), options, sharded.context(), stage);
            try (MemoryScope step = MemoryScope.open()) {
                model.loss(x, x).backward();
            }
            comm.barrier();
            long live = MemoryStats.liveBytes();
            comm.barrier();
            optimizer.zeroGrad();
            MemoryPerRank report = MemoryPerRank.held(model.namedParameters().values(), tp, dp, stage);
            // the model's AdamW state is what the optimizer allocated
            assertThat(report.optimizerBytes()).isEqualTo(optimizer.stateBytes());
            return new Object[] {live, report};
        });
        long measuredPerRank = ((long) perRank.get(0)[0] - before) / (tp * dp);
        MemoryPerRank report = (MemoryPerRank) perRank.get(0)[1];
        assertThat((double) measuredPerRank).as(report.toString()).isCloseTo(report.formulaBytes(), within(0.05 * report.formulaBytes()));
        assertThat((double) report.totalBytes()).isCloseTo(report.formulaBytes(), within(0.05 * report.formulaBytes()));
        if (stage > 0) {
            assertThat(report.optimizerBytes()).isCloseTo(report.parameterBytes(), within(report.parameterBytes() / 20));
        } else {
            assertThat(report.optimizerBytes()).isEqualTo(2 * report.parameterBytes());
        }
    }

    /** The dp traffic `plan --zero` predicts (DpGradientSync) is what a traced ZeRO step sends, kind by kind. */
    @ParameterizedTest(name = "zero {0}")
    @ValueSource(ints = {0, 1, 2})
    void planPredictsTheDpTrafficOfATracedZeroStep(int stage) {
        int tp = 2;
        int dp = 2;
        Gpt2Config cfg = Gpt2Config.tiny();
        IntTensor x = ids(37, 5, 256);
        List<java.util.Map<CollectiveKind, Long>[]> perRank = ThreadWorld.call(tp * dp, comm -> {
            Sharded sharded = Sharded.of(cfg, comm, tp, dp);
            Gpt2Model model = sharded.model();
            DistContext context = sharded.context();
            ZeroAdamW zero = stage == 0 ? null : new ZeroAdamW(model.namedParameters(), AdamW.Options.defaults(1e-3), context, stage);
            context.trace().enable(true);
            try (MemoryScope step = MemoryScope.open()) {
                model.loss(x, x).backward();
            }
            context.trace().enable(false);
            int before = context.trace().records().size();
            context.trace().enable(true);
            if (zero == null) {
                io.colo4j.tensor.colo.DataParallel.averageGradients(model, context);
            } else {
                zero.reduceGradients();
                zero.step();
            }
            java.util.Map<CollectiveKind, Long> traced = new java.util.TreeMap<>();
            for (var r : context.trace().records().subList(before, context.trace().records().size())) {
                traced.merge(r.collective(), r.bytes(), Long::sum);
            }
            java.util.Map<CollectiveKind, Long> predicted = new java.util.TreeMap<>();
            List<DpGradientSync.Local> locals = model.namedParameters().entrySet().stream()
                    .map(e -> new DpGradientSync.Local(e.getKey(), e.getValue().localNumel())).toList();
            for (DpGradientSync.Collective c : DpGradientSync.of(locals, dp, stage)) {
                predicted.merge(c.kind(), c.bytes(), Long::sum);
            }
            @SuppressWarnings("unchecked")
            java.util.Map<CollectiveKind, Long>[] pair = new java.util.Map[] {traced, predicted};
            return pair;
        });
        for (var pair : perRank) {
            assertThat(pair[0]).isNotEmpty().isEqualTo(pair[1]);
        }
    }

    /** A GPT-2 (seed 3) built on this rank of a tp x dp group, sharded by the gpt2 rules. */
    private record Sharded(Gpt2Model model, DistContext context) {
        static Sharded of(Gpt2Config cfg, Communicator comm, int tp, int dp) {
            Gpt2Model model;
            DistContext context;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")) {
                model = new Gpt2Model(cfg, 3);
                context = ctx.context();
            }
            ModelZoo.family("gpt2").rules().apply(model);
            return new Sharded(model, context);
        }
    }

    /** Two rows of 16 ids, {@code (i * mul + add) % vocab}. */
    private static IntTensor ids(int mul, int add, int vocab) {
        int[] ids = new int[2 * 16];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * mul + add) % vocab;
        }
        return IntTensor.of(ids, 2, 16);
    }

    /** Live off-heap bytes once storage dropped by earlier tests has been cleaned (their cleaners run after GC). */
    private static long settledLiveBytes() throws InterruptedException {
        long previous = -1;
        for (int i = 0; i < 50; i++) {
            System.gc();
            Thread.sleep(20);
            long now = MemoryStats.liveBytes();
            if (now == previous) {
                return now;
            }
            previous = now;
        }
        return previous;
    }
}
