package io.colo4j.cli.fuzz;

import java.io.IOException;
import java.util.List;

/**
 * {@code bench fuzz}: {@code count} inputs spread evenly over the chosen classes, each class's drawn from the seed
 * alone (so one class gives the same inputs whichever others run), fed one by one with a time limit each.
 */
public final class FuzzCampaign {
    /** The limit: every input answered within 10 s. */
    public static final long TIMEOUT_MILLIS = 10_000;

    private FuzzCampaign() {}

    public static FuzzReport run(int count, long seed, List<InputClass> classes, long timeoutMillis) throws IOException {
        FuzzReport report = new FuzzReport();
        try (FuzzRunner runner = new FuzzRunner(timeoutMillis)) {
            for (int k = 0; k < classes.size(); k++) {
                int n = count / classes.size() + (k < count % classes.size() ? 1 : 0);
                for (HostileInput input : runner.corpus(classes.get(k), n, seed)) {
                    report.add(runner.feed(input));
                }
            }
        }
        return report;
    }
}
