package io.colo4j.zoo.train;

import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.hf.HfLanguageModel;
import io.colo4j.zoo.tokenizer.ByteTokenizer;
import java.nio.file.Path;

/**
 * Runs {@link TrainerTest}'s micro training in a fresh JVM and prints each loss's float bits, for the
 * run-to-run determinism test. Args: steps [saveDir [resumeFrom]].
 */
public final class TrainerProbe {
    private TrainerProbe() {}

    public static void main(String[] args) throws Exception {
        long steps = Long.parseLong(args[0]);
        TrainConfig cfg = TrainerTest.config(steps).withSaveEvery(args.length > 1 ? 3 : 0);
        Trainer t = new Trainer(new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, new Gpt2Model(TrainerTest.MICRO, 5)),
                TokenData.bundled(ByteTokenizer.INSTANCE), cfg);
        if (args.length > 1) {
            t.saveTo(Path.of(args[1]));
        }
        if (args.length > 2) {
            t.resume(Path.of(args[2]));
        }
        Trainer.Result r = t.run();
        StringBuilder sb = new StringBuilder("losses");
        for (float l : r.losses()) {
            sb.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(l)));
        }
        System.out.println(sb);
    }
}
