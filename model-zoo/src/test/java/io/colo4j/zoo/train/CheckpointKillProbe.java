package io.colo4j.zoo.train;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For {@link CheckpointRewriteTest}: publishes checkpoint-1 of a save folder, then re-writes it and pauses
 * (printing {@link #PAUSED}) with the old folder set aside and the new one not yet in place, to be killed there.
 */
public final class CheckpointKillProbe {
    static final String MARKER = "state.txt";
    static final String PAUSED = "paused between the renames";

    private CheckpointKillProbe() {}

    public static void main(String[] args) throws Exception {
        CheckpointStore store = new CheckpointStore(Path.of(args[0]), 2);
        store.publish(1, staged -> Files.writeString(staged.resolve(MARKER), "first"));
        CheckpointStore.reached = point -> {
            if (point.equals("old set aside")) {
                System.out.println(PAUSED);
                System.out.flush();
                try {
                    Thread.sleep(120_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        store.publish(1, staged -> Files.writeString(staged.resolve(MARKER), "second"));
    }
}
