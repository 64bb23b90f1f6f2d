/**
 * What one rank holds for a run (parameters, gradients, AdamW moments), one model for both the plan
 * (from the sharding rules, before anything is allocated) and the run's own report (from the shards it
 * holds). Its own package so that {@code train} and {@code sizing} both use it without importing each other.
 */
package io.colo4j.zoo.memory;
