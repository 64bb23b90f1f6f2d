package io.colo4j.tensor.colo;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Shapes;
import java.util.Arrays;

/**
 * What a ColoTensor's local data is a shard of: its spec over the tp group, its global shape, and the
 * shape that is meaningful to the model ({@code validShape}), which is smaller than the global shape
 * only where a dim was padded to divide by tp (a vocab of 50257 at tp=2).
 */
public record DistState(DistSpec spec, int[] globalShape, int[] validShape, DistContext context) {
    public DistState {
        globalShape = globalShape.clone();
        validShape = validShape.clone();
        if (validShape.length != globalShape.length) {
            throw new IllegalArgumentException("valid shape " + Shapes.format(validShape) + " and global shape "
                    + Shapes.format(globalShape) + " differ in rank");
        }
    }

    public DistState(DistSpec spec, int[] globalShape, DistContext context) {
        this(spec, globalShape, globalShape, context);
    }

    @Override
    public int[] globalShape() {
        return globalShape.clone();
    }

    @Override
    public int[] validShape() {
        return validShape.clone();
    }

    public boolean padded() {
        return !Arrays.equals(globalShape, validShape);
    }

    public ShardLayout layout(String name) {
        return ShardLayout.of(name, globalShape, spec, context.tpSize());
    }

    public DistState with(DistSpec newSpec, int[] newGlobalShape, int[] newValidShape) {
        return new DistState(newSpec, newGlobalShape, newValidShape, context);
    }

    public DistState withSpec(DistSpec newSpec) {
        return new DistState(newSpec, globalShape, validShape, context);
    }

    @Override
    public String toString() {
        return spec + " of " + Shapes.format(globalShape) + (padded() ? " (valid " + Shapes.format(validShape) + ")" : "");
    }
}
