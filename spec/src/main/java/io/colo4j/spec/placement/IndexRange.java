package io.colo4j.spec.placement;

import io.colo4j.spec.SpecException;

/** A half-open range {@code [start, end)} of global indices along one dim. */
public record IndexRange(int start, int end) {

    public IndexRange {
        if (start < 0 || end < start) {
            throw new SpecException("index range [" + start + ", " + end + ") needs 0 <= start <= end");
        }
    }

    public int length() {
        return end - start;
    }

    public boolean contains(int index) {
        return index >= start && index < end;
    }

    @Override
    public String toString() {
        return "[" + start + ", " + end + ")";
    }
}
