package io.colo4j.zoo.bert;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
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

    /** The masking of {@code inputs} at {@code step}. */
    public BertMasking.Masked masking(IntTensor inputs, long step) {
        return BertMasking.mask(inputs, Init.Random.seed(MASKING_SEED, "mlm/step/" + step), model().config().vocabSize(),
                model().config().maskTokenId());
    }

    @Override
    public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
        model().setStep(step);
        BertMasking.Masked m = masking(inputs, step);
        return model().loss(m.inputs(), m.labels());
    }
}
