package io.colo4j.cli;

import io.colo4j.zoo.ModelZoo;
import picocli.CommandLine.Option;

/**
 * {@code --sequence-parallel}, on the commands that train or size a model (train, plan, bench train): the
 * family's rules (bundled or {@code --rules FILE}) with Megatron sequence parallelism on, as a rules file's
 * {@code "sequence_parallel": true} would have it.
 */
final class SequenceParallelOption {
    @Option(names = "--sequence-parallel",
            description = "Megatron sequence parallelism: reduce-scatter row-parallel outputs along the tokens instead of all-reducing them,"
                    + " so norms, dropout and residual adds hold 1/tp of the activations; the sequence length must divide by --tp.")
    boolean on;

    ModelZoo.Family applyTo(ModelZoo.Family family) {
        return on ? family.withSequenceParallel(true) : family;
    }

    /** Refuses a sequence that the tp ranks cannot split evenly, before any rank starts. */
    static void requireDivides(ModelZoo.Family family, int seq, int tp) {
        if (tp > 1 && seq % tp != 0 && family.rules().sequenceParallel()) {
            throw new IllegalArgumentException("--seq " + seq + " is not a multiple of --tp " + tp + ": sequence parallelism splits the"
                    + " token dim (dim 1 of [batch, seq, hidden]) of the activations between row- and column-parallel layers over tp");
        }
    }
}
