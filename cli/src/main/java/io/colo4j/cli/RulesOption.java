package io.colo4j.cli;

import io.colo4j.zoo.ModelZoo;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --rules FILE}, the one option every command that shards a model takes (train, eval, generate, plan,
 * coverage): the family's bundled rules unless a file is given. The file is read and checked here, before any
 * rank starts, so a bad one is refused naming the file (and the line and field the schema check found).
 */
final class RulesOption {
    @Option(names = "--rules", paramLabel = "FILE",
            description = "Sharding rules JSON (schema: rules.schema.json) instead of the family's bundled rules.")
    Path file;

    /** {@code family} sharded by the given file (read and validated now), or as is without one. */
    ModelZoo.Family applyTo(ModelZoo.Family family) {
        if (file == null) {
            return family;
        }
        ModelZoo.Family custom = family.withRules(file);
        custom.rules();
        return custom;
    }
}
