/** Generators of hostile inputs shared by the fuzz tests and bench fuzz. */
package io.colo4j.zoo.fuzz;
