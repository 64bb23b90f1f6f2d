package io.colo4j.tensor.comm;

import io.colo4j.tensor.profile.StepProfile;
import io.colo4j.tensor.profile.TimingProxy;
import java.util.Set;

/**
 * A communicator that times each collective as a {@link StepProfile} section ({@code collective <name>}: waiting
 * for the other ranks plus moving the data) and forwards everything to the one it wraps ({@link TimingProxy}, so
 * collectives added to the interface are timed too); sub-communicators from {@code split} are wrapped as well.
 */
public final class ProfiledCommunicator {
    /** Calls that are not collectives: forwarded untimed. */
    private static final Set<String> UNTIMED = Set.of("rank", "size", "backend", "timeout", "close", "split");

    private ProfiledCommunicator() {}

    /** {@code comm}, with its collectives timed. */
    public static Communicator wrap(Communicator comm) {
        if (TimingProxy.isTiming(comm)) {
            return comm;
        }
        return (Communicator) TimingProxy.wrap(comm, new Class<?>[] {Communicator.class},
                m -> UNTIMED.contains(m.getName()) ? -1 : StepProfile.section("collective " + m.getName()),
                (m, args, result) -> m.getName().equals("split") ? wrap((Communicator) result) : result);
    }
}
