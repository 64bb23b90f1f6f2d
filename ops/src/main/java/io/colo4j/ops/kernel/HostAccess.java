package io.colo4j.ops.kernel;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.ValueLayout;

/** Element access to a contiguous tensor by flat index, for the interface's portable default kernels. */
final class HostAccess {
    private HostAccess() {}

    static float get(Tensor t, long index) {
        return t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, t.offset() + index);
    }

    static void set(Tensor t, long index, float value) {
        t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, t.offset() + index, value);
    }
}
