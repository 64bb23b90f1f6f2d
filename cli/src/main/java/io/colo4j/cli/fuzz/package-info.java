/** bench fuzz: seeded hostile-input corpora per input class, fed to the CLI in-process and classified. */
package io.colo4j.cli.fuzz;
