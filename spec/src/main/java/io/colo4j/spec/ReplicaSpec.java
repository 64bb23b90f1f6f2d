package io.colo4j.spec;

/** Every rank of the group holds the whole tensor (ColossalAI's ReplicaSpec, DTensor's Replicate). */
public record ReplicaSpec() implements DistSpec {
    /** All replica specs are equal; this one saves the allocation. */
    public static final ReplicaSpec INSTANCE = new ReplicaSpec();

    @Override
    public String toString() {
        return "replicate";
    }
}
