package io.colo4j.cli;

import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.memory.ModelFits;
import io.colo4j.zoo.train.CheckpointManifest;
import io.colo4j.zoo.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model folder that eval and generate read: the folder (an HF model folder, a checkpoint, or a save folder's
 * latest), its family (sharded by {@code --rules} when given) and its config without dropout; {@link #load} builds
 * it on one rank of a tp group, each rank reading only its shard's bytes of the memory-mapped weights. Opening checks
 * the folder's checksums; {@link #requireFits} that a rank can hold its shard, before anything is built.
 */
record ModelFolder(Path dir, ModelZoo.Family family, HfConfig config) {
    /** {@code modelDir}'s folder; the family named by {@code model}, or by config.json's model_type when null. */
    static ModelFolder open(Path modelDir, String model, RulesOption rules) throws IOException {
        // a config.json that is there but no regular file (a FIFO, a folder) is named, not taken for a save folder
        Path dir = Files.exists(modelDir.resolve(HfCheckpoint.CONFIG)) ? modelDir : Trainer.resolveCheckpoint(modelDir);
        CheckpointManifest.verifyModelFolder(dir, System.err);
        ModelZoo.Family family = rules.applyTo(model != null ? ModelZoo.family(model) : ModelZoo.familyOf(dir));
        HfFamilyOps hf = family.requireHf();
        return new ModelFolder(dir, family, hf.withDropout(hf.readConfig(dir), 0f));
    }

    /** Refuses, in one line, a model whose shard on each of {@code tp} in-JVM ranks would not fit this machine. */
    void requireFits(int tp) {
        ModelFits.require(hf(), config, family.rules(), tp, 1, 0, tp, ModelFits.Use.EVAL, dir.resolve(HfCheckpoint.CONFIG).toString());
    }

    HfFamilyOps hf() {
        return family.requireHf();
    }

    /** The model with the folder's weights on {@code comm}'s rank: serial on one rank, sharded by the rules above on more. */
    Module load(Communicator comm) throws IOException {
        Module m = family.buildOnRank(config, 0, comm);
        hf().loadWeights(m, dir);
        return m;
    }
}
