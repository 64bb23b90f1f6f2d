package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.spec.RankView;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.hf.HfLanguageModel;
import io.colo4j.zoo.train.Evaluation;
import java.util.List;

/**
 * A {@link BertForMaskedLM} as the trainer sees it: the loss of a window is BERT's masked-LM loss on
 * the window itself ({@link BertMasking}, 15% of the positions, drawn from the step alone, so every
 * rank, a resumed run and any checkpoint evaluated on the same data mask alike); the next-token
 * {@code targets} the trainer passes are not used. Checkpoints are HF model folders.
 */
public final class BertLanguageModel extends HfLanguageModel<BertConfig, BertForMaskedLM> {
    public BertLanguageModel(BertForMaskedLM model) {
        super(BertCheckpoint.FORMAT, model);
    }

    /** The stream the masks are drawn from (with the step): fixed, not the model's init seed. */
    public static final long MASKING_SEED = 0x6d6c6d5f6d61736bL;

    /** The masking of {@code inputs} at {@code step}: this dp rank's rows of the global batch ({@link #dataParallel}). */
    public BertMasking.Masked masking(IntTensor inputs, long step) {
        RankView rank = dataParallel();
        int dp = rank == null ? 1 : rank.dpDegree();
        long offset = rank == null ? 0 : (long) rank.dpRank() * inputs.numel();
        return BertMasking.mask(inputs, Init.Random.seed(MASKING_SEED, "mlm/step/" + step), model().config().vocabSize(),
                model().config().maskTokenId(), BertMasking.PROBABILITY, offset, (long) dp * inputs.numel());
    }

    /**
     * eval's loss: BERT's masked-LM loss over each line of ids read whole, masked as in training (15%, 80/10/10) by a
     * mask drawn from {@link #MASKING_SEED} and the line's number alone, so the loss does not depend on --batch or
     * on which other lines the file holds; summed over the masked positions.
     */
    @Override
    public Evaluation.Sum evalLoss(List<Evaluation.Line> lines, int maxBatch) {
        for (Evaluation.Line line : lines) {
            Evaluation.check(line, this, "bert", false, 1, maxSequenceLength());
        }
        return Evaluation.sumOverBatches(lines, maxBatch, batch -> {
            int b = batch.size();
            int t = batch.get(0).ids().length;
            int[] in = new int[b * t];
            int[] labels = new int[b * t];
            long count = 0;
            for (int i = 0; i < b; i++) {
                Evaluation.Line line = batch.get(i);
                BertMasking.Masked m = BertMasking.mask(IntTensor.of(line.ids(), 1, t), Init.Random.seed(MASKING_SEED, "eval/line/" + line.number()),
                        model().config().vocabSize(), model().config().maskTokenId());
                System.arraycopy(m.inputs().data(), 0, in, i * t, t);
                System.arraycopy(m.labels().data(), 0, labels, i * t, t);
                count += m.count();
            }
            Tensor loss = model().loss(IntTensor.of(in, b, t), IntTensor.of(labels, b, t));
            return new Evaluation.Sum((double) loss.item() * count, count);
        });
    }

    /**
     * The masked-LM loss of the global batch's masked positions, as this dp rank's share: its rows' mean scaled by
     * (its count x dp / the window's count), so the dp average of the ranks' losses and gradients is the mean over
     * all masked positions, as a serial run of the global batch computes it.
     */
    @Override
    public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
        model().setStep(step);
        BertMasking.Masked m = masking(inputs, step);
        Tensor loss = model().loss(m.inputs(), m.labels());
        RankView rank = dataParallel();
        if (rank == null || rank.dpDegree() == 1) {
            return loss;
        }
        return F.scale(loss, (float) ((double) m.count() * rank.dpDegree() / m.windowCount()));
    }

    /** This rank's place in the tp x dp mesh when the model lives on ranks (the trainer gives dp rank r rows r of a batch), else null. */
    private RankView dataParallel() {
        for (Parameter p : model().namedParameters().values()) {
            if (p instanceof ColoParameter colo) {
                return colo.context().rank();
            }
        }
        return null;
    }
}
