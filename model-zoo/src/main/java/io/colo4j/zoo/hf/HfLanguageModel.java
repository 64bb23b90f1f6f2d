package io.colo4j.zoo.hf;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A zoo model as the trainer sees it; checkpoints are HF model folders in its family's
 * {@link HfCheckpoint} format. As is, a causal LM: the loss of a window is the model's next-token loss
 * against the trainer's targets. BERT and T5 override {@link #loss} (masked-LM, encoder-decoder).
 */
public class HfLanguageModel<C extends Record & HfConfig, M extends HfModel<C>> implements LanguageModel {
    private final M model;
    private final HfCheckpoint<C, M> format;

    public HfLanguageModel(HfCheckpoint<C, M> format, M model) {
        this.model = model;
        this.format = format;
    }

    public M model() {
        return model;
    }

    @Override
    public Module module() {
        return model;
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public int maxSequenceLength() {
        return model.config().maxPositions();
    }

    @Override
    public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
        model.setStep(step);
        return model.loss(inputs, targets);
    }

    @Override
    public void save(Path dir) throws IOException {
        format.save(model, dir);
    }

    @Override
    public void load(Path dir) throws IOException {
        C saved = format.readConfig(dir);
        if (!saved.equals(model.config())) {
            throw new IOException(dir + ": config " + saved + " differs from the model's " + model.config());
        }
        format.loadWeights(model, dir.resolve(HfCheckpoint.WEIGHTS));
    }

    @Override
    public String configJson() {
        return model.config().toJson();
    }
}
