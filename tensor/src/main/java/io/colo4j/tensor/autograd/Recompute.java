package io.colo4j.tensor.autograd;

import io.colo4j.tensor.Checkpoint;
import io.colo4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/**
 * Which activations a training step recomputes in backward instead of keeping (Megatron's
 * {@code --recompute-granularity}): none; selective, the attention core (q k^T, softmax, dropout, @ v: the
 * [B, heads, T, T] tensors); full, every layer of a stack, keeping only its input. Set per thread (each in-JVM
 * rank is one) around a step's forward with {@link #use}; models call {@link #layer} around each layer of their
 * stacks and {@link #attentionCore} around the core attention, which run {@link Checkpoint} when the mode asks.
 * Gradients are bit-identical to no recompute: the rerun is the same ops on the same data.
 */
public enum Recompute {
    NONE, SELECTIVE, FULL;

    private static final ThreadLocal<Recompute[]> CURRENT = ThreadLocal.withInitial(() -> new Recompute[] {NONE});

    /** The mode on this thread. */
    public static Recompute current() {
        return CURRENT.get()[0];
    }

    /** {@code try (var ignored = Recompute.use(mode)) { forward }}: the mode until closed. */
    public static GradMode.Guard use(Recompute mode) {
        Recompute[] slot = CURRENT.get();
        Recompute previous = slot[0];
        slot[0] = mode;
        return () -> slot[0] = previous;
    }

    /** One layer of a stack ({@code name}: its dotted path): {@code fn(inputs)}, checkpointed under {@link #FULL}. */
    public static Tensor layer(String name, Function<Tensor[], Tensor> fn, Tensor... inputs) {
        Tensor out = switch (current()) {
            case SELECTIVE -> LayerEnds.run(fn, inputs);
            case FULL -> Checkpoint.apply(name, fn, inputs);
            case NONE -> fn.apply(inputs);
        };
        Runnable observer = LAYER_OBSERVER.get()[0];
        if (observer != null) {
            observer.run();
        }
        return out;
    }

    private static final ThreadLocal<Runnable[]> LAYER_OBSERVER = ThreadLocal.withInitial(() -> new Runnable[1]);

    /**
     * {@code try (var ignored = Recompute.observeLayers(r)) { steps }}: {@code r} runs on this thread each time a layer's
     * forward ({@link #layer}) returns, until closed (the sizing trace ends a phase of the step there).
     */
    public static GradMode.Guard observeLayers(Runnable atLayerEnd) {
        Runnable[] slot = LAYER_OBSERVER.get();
        Runnable previous = slot[0];
        slot[0] = atLayerEnd;
        return () -> slot[0] = previous;
    }

    /**
     * Runs {@code end} when the innermost layer whose forward is running under {@link #SELECTIVE} returns, if
     * {@code madeInside} was allocated inside that layer; false (nothing registered) otherwise.
     */
    public static boolean atEndOfLayer(io.colo4j.tensor.Storage madeInside, Runnable end) {
        return LayerEnds.register(madeInside, end);
    }

    /** The core attention of a layer: {@code fn(inputs)}, checkpointed under {@link #SELECTIVE}. */
    public static Tensor attentionCore(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return current() == SELECTIVE ? Checkpoint.apply("attention core", fn, inputs) : fn.apply(inputs);
    }

    /** The option's spelling: {@code none}, {@code selective}, {@code full}. */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code --recompute} value to mode; an unknown one is refused naming the choices. */
    public static Recompute parse(String value) {
        for (Recompute r : values()) {
            if (r.optionName().equals(value)) {
                return r;
            }
        }
        throw new IllegalArgumentException("--recompute " + value + ": must be one of "
                + Arrays.stream(values()).map(Recompute::optionName).toList());
    }
}
