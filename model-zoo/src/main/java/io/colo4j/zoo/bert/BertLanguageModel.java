package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.spec.RankView;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.hf.HfLanguageModel;

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
