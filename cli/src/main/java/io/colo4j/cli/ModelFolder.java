package io.colo4j.cli;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model folder that eval and generate read: the folder (an HF model folder, a checkpoint, or a save folder's
 * latest), its family (sharded by {@code --rules} when given) and its config without dropout; {@link #load} builds
 * it on one rank of a tp group, each rank reading only its shard's bytes of the memory-mapped weights.
 */
record ModelFolder(Path dir, ModelZoo.Family family, HfConfig config) {
    /** {@code modelDir}'s folder; the family named by {@code model}, or by config.json's model_type when null. */
    static ModelFolder open(Path modelDir, String model, RulesOption rules) throws IOException {
        Path dir = Files.isRegularFile(modelDir.resolve(HfCheckpoint.CONFIG)) ? modelDir : Trainer.resolveCheckpoint(modelDir);
        ModelZoo.Family family = rules.applyTo(model != null ? ModelZoo.family(model) : ModelZoo.familyOf(dir));
        HfFamilyOps hf = family.requireHf();
        return new ModelFolder(dir, family, hf.withDropout(hf.readConfig(dir), 0f));
    }

    HfFamilyOps hf() {
        return family.requireHf();
    }

    /** The model with the folder's weights on {@code comm}'s rank of a tp group of {@code tp}: serial at 1, sharded by the rules above. */
    Module load(Communicator comm, int tp) throws IOException {
        Module m;
        if (tp == 1) {
            m = hf().build(config, 0);
        } else {
            try (InitContext ignored = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                m = hf().build(config, 0);
            }
            family.rules().apply(m);
        }
        hf().loadWeights(m, dir);
        return m;
    }
}
