package io.colo4j.cli;

import io.colo4j.tensor.comm.FailureLine;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/colo4j}: the entry point; each job is a subcommand. */
@Command(name = "colo4j", mixinStandardHelpOptions = true, version = "colo4j 0.1.0",
        description = "Megatron-style tensor parallelism for the JVM.",
        subcommands = {PlanCommand.class, BenchCommand.class, TrainCommand.class, EvalCommand.class, GenerateCommand.class, CoverageCommand.class, CommandLine.HelpCommand.class})
public final class Colo4jCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) { // thrown past picocli's handler, which only sees exceptions
            System.err.println("colo4j: " + OutOfMemory.describe(e));
            code = 1;
        }
        System.exit(code);
    }

    /** The configured command line, shared by main and tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Colo4jCommand());
        cli.setExecutionExceptionHandler((ex, line, parse) -> {
            OutOfMemoryError oom = OutOfMemory.in(ex);
            line.getErr().println("colo4j " + line.getCommandName() + ": " + (oom != null ? OutOfMemory.describe(oom) : FailureLine.of(ex)));
            if (FailureLine.traceWanted()) {
                ex.printStackTrace(line.getErr());
            }
            return 1;
        });
        return cli;
    }
}
