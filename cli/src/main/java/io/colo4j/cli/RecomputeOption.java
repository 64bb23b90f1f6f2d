package io.colo4j.cli;

import io.colo4j.tensor.autograd.Recompute;
import picocli.CommandLine.Option;

/** {@code --recompute none|selective|full} on {@code plan}: the recompute whose step the sizing plan shows. */
final class RecomputeOption {
    @Option(names = "--recompute", defaultValue = "none", paramLabel = "none|selective|full",
            description = "The step's recompute, whose communication the plan shows (full reruns each layer's forward collectives"
                    + " in backward; selective with --sequence-parallel gathers column inputs again); activations are listed for"
                    + " every recompute (default: ${DEFAULT-VALUE}).")
    String value;

    Recompute mode() {
        return Recompute.parse(value);
    }
}
