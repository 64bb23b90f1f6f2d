package io.colo4j.zoo.t5;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.hf.HfLanguageModel;
import io.colo4j.zoo.train.Evaluation;
import java.util.List;

/**
 * A {@link T5ForConditionalGeneration} as the trainer sees it: a window of T tokens is split in two;
 * the encoder reads the first T/2, the decoder predicts the rest with teacher forcing (its input is
 * the labels shifted right behind decoder_start_token_id 0). The next-token {@code targets} the trainer
 * passes are not used. Checkpoints are HF model folders.
 */
public final class T5LanguageModel extends HfLanguageModel<T5Config, T5ForConditionalGeneration> {
    public T5LanguageModel(T5ForConditionalGeneration model) {
        super(T5Checkpoint.FORMAT, model);
    }

    /** The halves of odd windows differ by a token, so only even windows scale exactly (see {@link #split}). */
    @Override
    public int windowStep() {
        return 2;
    }

    /** The window's encoder input (first half) and labels (second half): {inputs, labels}. */
    public static IntTensor[] split(IntTensor window) {
        int[] s = window.shape();
        if (s.length != 2 || s[1] < 2) {
            throw new IllegalArgumentException("t5: a window must be [batch, seq] with seq >= 2, got " + java.util.Arrays.toString(s));
        }
        int b = s[0];
        int t = s[1];
        int e = t / 2;
        int d = t - e;
        int[] enc = new int[b * e];
        int[] lab = new int[b * d];
        for (int r = 0; r < b; r++) {
            System.arraycopy(window.data(), r * t, enc, r * e, e);
            System.arraycopy(window.data(), r * t + e, lab, r * d, d);
        }
        return new IntTensor[] {IntTensor.of(enc, b, e), IntTensor.of(lab, b, d)};
    }

    /**
     * eval's loss: each {@code source ||| target} line's target predicted with teacher forcing from its source (the
     * encoder reads the source, the decoder the target shifted right behind decoder_start_token_id), summed over
     * the target tokens.
     */
    @Override
    public Evaluation.Sum evalLoss(List<Evaluation.Line> lines, int maxBatch) {
        for (Evaluation.Line line : lines) {
            Evaluation.check(line, this, "t5", true, 1, Integer.MAX_VALUE);
        }
        return Evaluation.sumOverBatches(lines, maxBatch, batch -> {
            int b = batch.size();
            int e = batch.get(0).ids().length;
            int d = batch.get(0).target().length;
            int[] source = new int[b * e];
            int[] target = new int[b * d];
            for (int i = 0; i < b; i++) {
                System.arraycopy(batch.get(i).ids(), 0, source, i * e, e);
                System.arraycopy(batch.get(i).target(), 0, target, i * d, d);
            }
            Tensor loss = model().loss(IntTensor.of(source, b, e), IntTensor.of(target, b, d));
            return new Evaluation.Sum((double) loss.item() * b * d, (long) b * d);
        });
    }

    @Override
    public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
        model().setStep(step);
        IntTensor[] parts = split(inputs);
        return model().loss(parts[0], parts[1]);
    }
}
