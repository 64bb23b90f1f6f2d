package io.colo4j.cli.fuzz;

/** What the generator knows about an input: only then can an acceptance be silent, or a refusal wrong. */
public enum Expect {
    /** A valid input: it must be accepted. */
    VALID,
    /** Something the format, a check or the docs forbid: it must be refused, naming the culprit. */
    INVALID,
    /** A random mutation that may still be valid: accepted or cleanly refused are both right. */
    EITHER
}
