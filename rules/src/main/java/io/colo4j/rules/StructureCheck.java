package io.colo4j.rules;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;

/**
 * Specs that divide the shapes but contradict what the model declares about itself, so no tp makes them right:
 * a normalisation layer's 1-d parameters split column or vocab ({@link Normalization}), and a fused parameter split
 * with a stride other than its number of fused blocks ({@link Parameter#fusedBlocks(int, int)}; stride 1, the dim
 * cut as one piece, stays allowed: ColossalAI's tutorial layout, which the dispatcher runs correctly).
 */
final class StructureCheck {
    private StructureCheck() {}

    /**
     * @throws RoleMapping.CannotApply saying why, without naming the rule or the parameter (the caller adds them)
     */
    static void check(Role role, Module module, Parameter parameter, DistSpec spec) {
        if ((role == Role.COLUMN || role == Role.VOCAB) && parameter.fullShape().length == 1 && module instanceof Normalization) {
            throw new RoleMapping.CannotApply(module.getClass().getSimpleName() + " is a normalisation layer: its 1-d parameters"
                    + " scale and shift whole features of an activation it normalises whole, so they cannot be split "
                    + role.wireName() + "; give them 'replicate'");
        }
        if (!(spec instanceof ShardSpec shard)) {
            return;
        }
        for (int i = 0; i < shard.rank(); i++) {
            int blocks = parameter.fusedBlocks(shard.dim(i));
            int stride = shard.stride(i);
            if (blocks > 1 && stride != 1 && stride != blocks) {
                throw new RoleMapping.CannotApply("the model declares dim " + shard.dim(i) + " as " + blocks
                        + " fused blocks (e.g. q | k | v), so a split of it needs stride " + blocks
                        + " (each rank a part of every block) or 1 (the dim cut as one piece), not " + stride);
            }
        }
    }
}
