package io.colo4j.tensor.autograd;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Storage;
import io.colo4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Records ops onto the graph and runs reverse-mode differentiation over it. */
public final class Autograd {
    /** Per thread: how deep in backward (a recomputed layer's backward runs inside another), and what runs at the end. */
    private static final ThreadLocal<BackwardEnd> END = ThreadLocal.withInitial(BackwardEnd::new);

    private Autograd() {}

    /**
     * The action queued under {@code key} to run once when the outermost backward now running on this thread has
     * finished (PyTorch's {@code queue_callback}), made by {@code make} on the first call with that key in this backward:
     * each of many gradient functions can hand its part to one shared step, e.g. one all-reduce of every gradient kept
     * partial until then ({@code colo.SequenceParallelGrads}). A backward that throws drops the actions. Only from
     * inside backward.
     */
    public static <T extends Runnable> T atEndOfBackward(Object key, java.util.function.Supplier<T> make) {
        BackwardEnd end = END.get();
        if (end.depth == 0) {
            throw new IllegalStateException("atEndOfBackward outside backward");
        }
        @SuppressWarnings("unchecked")
        T action = (T) end.actions.computeIfAbsent(key, k -> make.get());
        return action;
    }

    /**
     * Makes {@code output} the result of a differentiable op when grad mode is on and any input
     * requires a gradient; otherwise returns it untouched. Returns {@code output} either way.
     */
    public static Tensor record(String name, Tensor output, BackwardFn backward, Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return output;
        }
        for (Tensor input : inputs) {
            if (input != null && input.requiresGrad()) {
                output.attachGradFn(new GradFn(name, inputs.clone(), backward));
                return output;
            }
        }
        return output;
    }

    /** Accumulates d(root)/d(leaf) into every leaf's {@code grad}, seeding with {@code gradRoot}. */
    public static void backward(Tensor root, Tensor gradRoot) {
        backward(root, gradRoot, null);
    }

    /**
     * {@link #backward} that hands back the gradients of {@code wrt} (leaves; null where none reached one) instead of
     * accumulating them into their {@code grad}; every other leaf accumulates as usual (a recomputed layer's inputs
     * and its parameters).
     */
    public static Tensor[] gradients(Tensor root, Tensor gradRoot, Tensor... wrt) {
        Map<Tensor, Tensor> captured = new IdentityHashMap<>();
        for (Tensor t : wrt) {
            if (t != null) {
                captured.put(t, null);
            }
        }
        if (captured.containsKey(root)) {
            captured.put(root, gradRoot);
        } else {
            backward(root, gradRoot, captured);
        }
        Tensor[] out = new Tensor[wrt.length];
        for (int i = 0; i < wrt.length; i++) {
            out[i] = wrt[i] == null ? null : captured.get(wrt[i]);
        }
        return out;
    }

    /**
     * {@code try (var ignored = Autograd.keepDeadGradients()) { backward }}: backward on this thread keeps every
     * intermediate gradient until the step scope closes, as before autograd released them once dead (to measure
     * what releasing saves; {@code -Dcolo4j.autograd.releaseDeadGradients=false} does the same everywhere).
     */
    public static GradMode.Guard keepDeadGradients() {
        return DeadGradients.keep();
    }

    private static void backward(Tensor root, Tensor gradRoot, Map<Tensor, Tensor> captured) {
        BackwardEnd end = END.get();
        end.depth++;
        boolean finished = false;
        try {
            backwardPass(root, gradRoot, captured);
            finished = true;
        } finally {
            if (--end.depth == 0) {
                end.runAll(finished);
            }
        }
    }

    /** The actions {@link #atEndOfBackward} queued on one thread, and how many backward passes are running there. */
    private static final class BackwardEnd {
        int depth;
        final Map<Object, Runnable> actions = new java.util.LinkedHashMap<>();

        void runAll(boolean run) {
            List<Runnable> queued = new ArrayList<>(actions.values());
            actions.clear();
            if (run) {
                queued.forEach(Runnable::run);
            }
        }
    }

    private static void backwardPass(Tensor root, Tensor gradRoot, Map<Tensor, Tensor> captured) {
        if (!root.sameShape(gradRoot)) {
            throw ShapeException.of("backward", "gradient shape differs from the output", root.shape(), gradRoot.shape());
        }
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad and has no grad_fn");
        }
        if (root.isLeaf()) {
            accumulateLeaf(root, gradRoot);
            return;
        }
        DeadGradients dead = new DeadGradients();
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> pending = new IdentityHashMap<>();
        pending.put(root, gradRoot);
        try (GradMode.Guard ignored = GradMode.disabled()) {
            for (Tensor node : order) {
                Tensor grad = pending.remove(node);
                GradFn fn = node.gradFn();
                if (grad == null) {
                    fn.release();
                    continue;
                }
                dead.dropped(grad);
                Tensor[] inputs = fn.inputs();
                Tensor[] grads = fn.apply(grad);
                fn.release();
                for (int i = 0; i < inputs.length; i++) {
                    Tensor input = inputs[i];
                    dead.maybeDead(grads[i]);
                    if (input == null || !input.requiresGrad() || grads[i] == null) {
                        continue;
                    }
                    if (!input.sameShape(grads[i])) {
                        throw ShapeException.of("backward of " + fn.name(), "gradient for input " + i
                                + " has the wrong shape", input.shape(), grads[i].shape());
                    }
                    if (captured != null && captured.containsKey(input)) {
                        hold(captured, input, grads[i], dead);
                    } else if (input.isLeaf()) {
                        accumulateLeaf(input, grads[i]);
                    } else {
                        hold(pending, input, grads[i], dead);
                    }
                }
                dead.releaseDead();
            }
        }
    }

    /** Puts {@code grad} for {@code input}, summed with what is there already (both then dead unless held elsewhere). */
    private static void hold(Map<Tensor, Tensor> grads, Tensor input, Tensor grad, DeadGradients dead) {
        dead.held(grads.merge(input, grad, (a, b) -> {
            dead.dropped(a);
            return a.copy().addInPlace(b);
        }));
    }

    /**
     * Adds {@code grad} to a leaf's gradient as backward does (hooks included). Leaf gradients outlive the step that
     * computed them, so they are long-lived memory. Public for gradients completed after the graph (at the end of backward).
     */
    public static void accumulateLeaf(Tensor leaf, Tensor grad) {
        try (GradMode.Guard ignored = GradMode.disabled(); MemoryScope persistent = MemoryScope.persistentWithoutArena()) {
            if (leaf.grad() == null) {
                leaf.adoptGrad(adoptable(leaf, grad) ? grad : grad.copy());
            } else if (!leaf.gradAccumulationSkipped()) {
                leaf.grad().addInPlace(grad);
            }
        }
        leaf.onGradAccumulated();
    }

    /**
     * Where a backward writes the gradient of {@code input} ({@code shape}, contiguous): where {@code input} is
     * long-lived memory (a parameter's data, or its alias on a rank), a long-lived buffer that {@link #accumulateLeaf}
     * takes as the leaf's first gradient as it is (PyTorch's AccumulateGrad keeps its incoming buffer): the gradient is
     * never held twice, once in step memory and once copied. Else step memory, as {@code Tensor.empty}. A buffer no leaf
     * adopts is released once dead, as step memory is.
     */
    public static Tensor gradientBuffer(Tensor input, int... shape) {
        return gradientBuffer(input, false, shape);
    }

    /** {@link #gradientBuffer(Tensor, int...)} filled with zeros, for a backward that adds into it (an embedding's). */
    public static Tensor gradientBufferOfZeros(Tensor input, int... shape) {
        return gradientBuffer(input, true, shape);
    }

    private static Tensor gradientBuffer(Tensor input, boolean zeros, int... shape) {
        Storage s = input.storageIfAny();
        if (s == null || !s.isLongLived()) {
            return zeros ? Tensor.zeros(shape) : Tensor.empty(shape);
        }
        if (s.gradientBufferSource() != null) {
            Tensor given = s.gradientBufferSource().apply(shape);
            return zeros ? given.fill(0f) : given;
        }
        Tensor buffer;
        try (MemoryScope persistent = MemoryScope.persistentWithoutArena()) { // zero_grad frees it every step
            buffer = zeros ? Tensor.zeros(shape) : Tensor.empty(shape);
        }
        buffer.storage().markGradientBuffer();
        return buffer;
    }

    /** A gradient buffer spanning its storage, contiguous, which the leaf may take as its gradient as it is. */
    private static boolean adoptable(Tensor leaf, Tensor grad) {
        Storage s = grad.storageIfAny();
        if (s == null || !s.isGradientBuffer() || grad.offset() != 0 || !grad.isContiguous() || grad.localNumel() != s.numel()
                || !Arrays.equals(grad.localShape(), leaf.localShape()) || grad.isDistributed()) {
            return false;
        }
        s.adoptedAsGradient();
        return true;
    }

    /** Non-leaf tensors reachable from root, each after every tensor that consumes it. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> postOrder = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor node = (Tensor) frame[0];
            Tensor[] inputs = node.gradFn().inputs();
            int next = (Integer) frame[1];
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor input = inputs[next];
                if (input != null && !input.isLeaf() && visited.add(input)) {
                    stack.push(new Object[] {input, 0});
                }
            } else {
                stack.pop();
                postOrder.add(node);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }
}
