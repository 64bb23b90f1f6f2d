package io.colo4j.cli.fuzz;

/** One entry of a corpus before it is numbered: what it is, what it must give, how to lay it out. */
record Case(String label, Expect expect, HostileInput.Prepare prepare) {}
