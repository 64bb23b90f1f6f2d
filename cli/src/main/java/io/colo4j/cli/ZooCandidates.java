package io.colo4j.cli;

import io.colo4j.zoo.ModelZoo;
import java.util.Iterator;

/** The zoo's names for picocli's {@code ${COMPLETION-CANDIDATES}}, so help text follows the zoo instead of repeating it. */
final class ZooCandidates {
    private ZooCandidates() {}

    /** Every family's name. */
    static final class Families implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return ModelZoo.names().iterator();
        }
    }

    /** Every family with its config names ("gpt2 [tiny, mini, ...]"). */
    static final class Configs implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return ModelZoo.families().stream().map(f -> f.name() + " " + f.configs()).iterator();
        }
    }
}
