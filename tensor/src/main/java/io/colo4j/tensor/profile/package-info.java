/**
 * Per-step time breakdown ({@link io.colo4j.tensor.profile.StepProfile}): named, nested sections timed per
 * thread, off unless a benchmark turns them on; {@link io.colo4j.tensor.profile.ProfileTable} prints them.
 * Depends on nothing else in the module, so the core (storage allocation) can mark its section.
 */
package io.colo4j.tensor.profile;
