package io.colo4j.cli;

import io.colo4j.ops.bench.DispatchBench;
import io.colo4j.ops.bench.GemmBench;
import io.colo4j.ops.bench.KernelBench;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.ops.kernel.opencl.OpenClBackend;
import io.colo4j.ops.kernel.opencl.OpenClGemmBench;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.sizing.ModelFlops;
import io.colo4j.zoo.train.Mfu;
import io.colo4j.zoo.train.TrainBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bin/colo4j bench gemm|kernels}: kernel speed, printed against this machine's own anchors. */
@Command(name = "bench", description = "Benchmarks: gemm GFLOP/s, fused-kernel bandwidth, dispatch overhead.",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Kernels.class, BenchCommand.Dispatch.class, BenchCommand.Train.class, BenchCommand.Comm.class, BenchFuzz.class})
final class BenchCommand {
    private BenchCommand() {}

    @Command(name = "gemm", mixinStandardHelpOptions = true,
            description = "sgemm GFLOP/s for square sizes, as a ratio of the measured FMA peak and (with --anchor) torch.mm;"
                    + " with --backend opencl, the OpenCL sgemm beside both in the same run.")
    static final class Gemm implements Callable<Integer> {
        @Mixin
        BackendOption backend;

        @Option(names = "--sizes", split = ",", defaultValue = "256,512,1024,2048", description = "Square sizes (default: ${DEFAULT-VALUE}).")
        int[] sizes;

        @Option(names = "--threads", description = "Kernel threads (default: all cores).")
        Integer threads;

        @Option(names = "--iterations", defaultValue = "5")
        int iterations;

        @Option(names = "--warmup", defaultValue = "3")
        int warmup;

        @Option(names = "--anchor", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Also time torch.mm through python3 in the same run when torch is installed (default: ${DEFAULT-VALUE}).")
        boolean anchor;

        @Override
        public Integer call() {
            int t = threads != null ? threads : CpuThreads.pool().getParallelism();
            KernelBackend b = backend.apply();
            if (b instanceof OpenClBackend cl) {
                OpenClGemmBench.run(cl, sizes, t, warmup, iterations, anchor, System.out);
            } else {
                GemmBench.run(sizes, t, warmup, iterations, anchor, System.out);
            }
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Training-step speed, MFU and per-rank memory of any zoo model at each --tp, beside the PyTorch reference"
                    + " script in the same run; --profile breaks a step's time down.")
    static final class Train implements Callable<Integer> {
        @Mixin
        BackendOption backend;

        @Option(names = "--model", defaultValue = "gpt2", completionCandidates = ZooCandidates.Families.class,
                description = "Zoo family: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--config", completionCandidates = ZooCandidates.Configs.class,
                description = "A named config of the --model family (default: small where the family has one, else tiny).")
        String config;

        @Option(names = "--tp", split = ",", defaultValue = "1,2", description = "Tensor-parallel degrees to time (default: ${DEFAULT-VALUE}).")
        int[] tps;

        @Option(names = "--batch", defaultValue = "4")
        int batch;

        @Option(names = "--seq", description = "Tokens per window (default: min(128, the model's positions)).")
        Integer seq;

        @Option(names = "--steps", defaultValue = "6",
                description = "Steps per run; the first is warm-up, max/min is taken over steps 2..6 (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--anchor", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Also run the PyTorch reference script with the same sizes and threads (default: ${DEFAULT-VALUE}).")
        boolean anchor;

        @Option(names = "--profile", description = "Per-step time breakdown (GEMM, kernels, collectives, allocator, autograd, optimizer)"
                + " per rank, over steps 2..n.")
        boolean profile;

        @Mixin
        SequenceParallelOption sequenceParallel;

        @Option(names = "--recompute", defaultValue = "none", paramLabel = "none|selective|full",
                description = "Activations recomputed in backward: none, selective (attention core) or full (every layer; keeps its input)"
                        + " (default: ${DEFAULT-VALUE}).")
        String recompute;

        @Override
        public Integer call() throws Exception {
            backend.apply();
            if (config == null) {
                io.colo4j.zoo.ModelZoo.Family family = io.colo4j.zoo.ModelZoo.family(model);
                config = family.configs().contains("small") ? "small" : family.defaultConfig();
            }
            boolean mpi = io.colo4j.tensor.comm.Communicators.underMpi();
            if (mpi && tps.length != 1) {
                throw new IllegalArgumentException("under mpirun give one --tp, equal to -np (MPI cannot be restarted for another)");
            }
            TrainBench.Options first = new TrainBench.Options(model, config, tps[0], batch, seq, steps, profile, sequenceParallel.on,
                    io.colo4j.tensor.autograd.Recompute.parse(recompute));
            HfConfig cfg = TrainBench.config(first);
            int window = TrainBench.seq(first);
            ModelFlops flops = ModelFlops.of(cfg, window);
            Mfu mfu = Mfu.of(cfg, window);
            if (!mpi || "0".equals(System.getenv("OMPI_COMM_WORLD_RANK"))) {
                System.out.printf(java.util.Locale.ROOT, "%s %s, batch %d x seq %d: %.4g model FLOPs per token (6N + attention, N = %.2fM"
                                + " parameters tokens pass through); %s%n", model, config, batch, window, flops.perToken(),
                        flops.parameters() / 1e6, mfu.describe());
            }
            List<TrainBench.Result> results = new java.util.ArrayList<>();
            for (int tp : tps) {
                var r = TrainBench.run(new TrainBench.Options(model, config, tp, batch, seq, steps, profile, sequenceParallel.on, first.recompute()), System.out);
                if (r == null) {
                    return 0; // an MPI rank other than 0: rank 0 reports
                }
                results.add(r);
            }
            // under mpirun the anchor would compete with the other ranks' processes: time it in an in-JVM run
            double torchTokens = anchor && !mpi ? TorchAnchor.tokensPerSecond(model + " " + config, cfg, batch, window, steps, System.out)
                    : Double.NaN;
            if (!Double.isNaN(torchTokens)) {
                System.out.printf(java.util.Locale.ROOT, "pytorch: MFU %.3f%n", mfu.at(torchTokens));
            }
            double tp1 = results.get(0).tokensPerSecond();
            for (TrainBench.Result r : results) {
                System.out.printf(java.util.Locale.ROOT, "tp=%d: %.1f tokens/s, MFU %.3f, max/min step %.2f, %.2fx tp=%d%s; state per rank %.2fx tp=%d%n",
                        r.tp(), r.tokensPerSecond(), r.mfu(), r.maxOverMinStep(), r.tokensPerSecond() / tp1, results.get(0).tp(),
                        Double.isNaN(torchTokens) ? "" : String.format(java.util.Locale.ROOT, ", %.2fx PyTorch", r.tokensPerSecond() / torchTokens),
                        (double) r.stateBytesPerRank() / results.get(0).stateBytesPerRank(), results.get(0).tp());
            }
            return 0;
        }
    }

    @Command(name = "comm", mixinStandardHelpOptions = true,
            description = "All-reduce / all-gather / reduce-scatter bus bandwidth beside a memcpy of the same buffer "
                    + "(in-JVM ranks; MPI when started by mpirun).")
    static final class Comm implements Callable<Integer> {
        @Option(names = "--ranks", split = ",", defaultValue = "2,4", description = "In-JVM rank counts (default: ${DEFAULT-VALUE}).")
        int[] ranks;

        @Option(names = "--sizes", split = ",", defaultValue = "1,16,64", description = "Buffer sizes in MiB (default: ${DEFAULT-VALUE}).")
        long[] sizes;

        @Option(names = "--rounds", defaultValue = "10")
        int rounds;

        @Option(names = "--backend", defaultValue = "auto", description = "auto, thread or mpi (default: ${DEFAULT-VALUE}).")
        String backend;

        @Override
        public Integer call() {
            long[] bytes = java.util.Arrays.stream(sizes).map(m -> m << 20).toArray();
            io.colo4j.tensor.comm.CommBench.run(System.out,
                    new io.colo4j.tensor.comm.CommBench.Options(ranks, bytes, rounds, 100, backend));
            return 0;
        }
    }

    @Command(name = "dispatch", mixinStandardHelpOptions = true,
            description = "Per-op cost of dispatching on ColoTensors, beside the serial op and the bare kernel.")
    static final class Dispatch implements Callable<Integer> {
        @Mixin
        BackendOption backend;

        @Option(names = "--size", defaultValue = "4", description = "Square tensor size (default: ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--iterations", defaultValue = "20000")
        int iterations;

        @Override
        public Integer call() {
            backend.apply();
            DispatchBench.run(size, iterations, System.out);
            return 0;
        }
    }

    @Command(name = "kernels", mixinStandardHelpOptions = true,
            description = "Softmax, layernorm, gelu (forward and backward) bandwidth against a memcpy of the same bytes,"
                    + " on the --backend chosen.")
    static final class Kernels implements Callable<Integer> {
        @Mixin
        BackendOption backend;

        @Option(names = "--rows", defaultValue = "4096")
        int rows;

        @Option(names = "--cols", defaultValue = "3072")
        int cols;

        @Option(names = "--iterations", defaultValue = "20")
        int iterations;

        @Override
        public Integer call() {
            if (backend.apply() instanceof OpenClBackend cl) {
                System.out.printf(java.util.Locale.ROOT, "opencl device: %s; program build %.0f ms (first in this process), %.0f ms warm%n",
                        cl.deviceDescription(), cl.programBuildMillis(), cl.rebuildProgramMillis());
            }
            KernelBench.run(rows, cols, iterations, System.out);
            io.colo4j.ops.bench.AttentionKernelBench.run(1, 12, 1024, 64, iterations, System.out);
            return 0;
        }
    }
}
