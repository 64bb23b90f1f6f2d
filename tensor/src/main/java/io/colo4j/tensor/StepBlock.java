package io.colo4j.tensor;

/**
 * A block of step memory ({@link MemoryScope#open()}) as its {@link Storage} knows it: the scope it counts as,
 * where it lies in the pool, its bytes and its serial number on its thread (the order of allocation, which tells
 * autograd what was allocated while it ran).
 */
record StepBlock(MemoryScope scope, StepMemoryPool.Placement placement, long bytes, long serial) {
    /**
     * Poison released blocks with NaN (system property {@code colo4j.memory.poisonReleased}, or assertions on, as in
     * tests), so a view that escaped the released-storage check reads NaN instead of a later tensor's numbers.
     */
    static final boolean POISON = Boolean.getBoolean("colo4j.memory.poisonReleased") || StepBlock.class.desiredAssertionStatus();
}
