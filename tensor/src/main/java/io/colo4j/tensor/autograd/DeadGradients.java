package io.colo4j.tensor.autograd;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Storage;
import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one backward pass owns of the gradients flowing through it, and releases once dead (as PyTorch's autograd
 * engine drops a node's input buffer after the node ran): the step memory allocated while the pass runs (by backward
 * functions and by the pass's own sums), counted per storage while a pending or captured gradient holds it.
 *
 * <p>Owned: step memory ({@link Storage#madeSince}) allocated since the pass began, so never the caller's
 * gradRoot, a saved activation, a parameter or anything else that existed before; and long-lived gradient buffers
 * ({@link Autograd#gradientBuffer}) until a leaf adopts one. A storage is released when the
 * node that received it has run and no pending or captured gradient holds it (a backward that returns its incoming
 * gradient or a view of it hands it on; a captured gradient goes to the caller), or when a leaf's gradient was
 * copied into the leaf's long-lived {@code grad}, or when two pending gradients were summed into a new one.
 * A backward function that keeps a gradient it returned past its node breaks this contract and fails loudly on its
 * next read ({@link Storage#release()}).
 */
final class DeadGradients {
    /** Gradients are released unless {@code -Dcolo4j.autograd.releaseDeadGradients=false} (to measure without). */
    private static final boolean BY_DEFAULT = !"false".equals(System.getProperty("colo4j.autograd.releaseDeadGradients"));
    private static final ThreadLocal<boolean[]> ON = ThreadLocal.withInitial(() -> new boolean[] {BY_DEFAULT});

    private final boolean enabled = ON.get()[0];
    private final long since = MemoryScope.stepAllocations();

    /** See {@link Autograd#keepDeadGradients()}. */
    static GradMode.Guard keep() {
        boolean[] on = ON.get();
        boolean previous = on[0];
        on[0] = false;
        return () -> on[0] = previous;
    }
    /** Owned storages that a pending or captured gradient holds, with the number of such holders. */
    private final Map<Storage, Integer> holders = new IdentityHashMap<>();
    /** Gradients that may have died while the current node ran. */
    private final List<Tensor> candidates = new ArrayList<>();

    /** A gradient now held in the pending or captured map. */
    void held(Tensor grad) {
        Storage s = owned(grad);
        if (s != null) {
            holders.merge(s, 1, Integer::sum);
        }
    }

    /** A gradient no longer held there (taken to run its node, or summed into another); it may be dead. */
    void dropped(Tensor grad) {
        Storage s = owned(grad);
        if (s != null) {
            holders.computeIfPresent(s, (k, n) -> n == 1 ? null : n - 1);
            candidates.add(grad);
        }
    }

    /** A gradient a backward returned or a sum made; dead at the node's end unless then held. */
    void maybeDead(Tensor grad) {
        if (grad != null && owned(grad) != null) {
            candidates.add(grad);
        }
    }

    /** At a node's end: releases every candidate storage no gradient holds. */
    void releaseDead() {
        for (Tensor grad : candidates) {
            Storage s = owned(grad); // a gradient buffer a leaf adopted while its node ran is the leaf's now
            if (s != null && !holders.containsKey(s)) {
                s.release();
            }
        }
        candidates.clear();
    }

    private Storage owned(Tensor grad) {
        Storage s = enabled && grad != null ? grad.storageIfAny() : null;
        return s != null && (s.madeSince(since) || s.isGradientBuffer()) && !s.isReleased() ? s : null;
    }
}
