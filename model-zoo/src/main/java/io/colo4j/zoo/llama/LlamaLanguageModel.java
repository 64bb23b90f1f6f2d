package io.colo4j.zoo.llama;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;

/** A {@link LlamaModel} as the trainer sees it; checkpoints are HF model folders. */
public final class LlamaLanguageModel implements LanguageModel {
    private final LlamaModel model;

    public LlamaLanguageModel(LlamaModel model) {
        this.model = model;
    }

    public LlamaModel model() {
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
        return model.config().maxPositionEmbeddings();
    }

    @Override
    public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
        model.setStep(step);
        return model.loss(inputs, targets);
    }

    @Override
    public void save(Path dir) throws IOException {
        LlamaCheckpoint.save(model, dir);
    }

    @Override
    public void load(Path dir) throws IOException {
        LlamaConfig saved = LlamaCheckpoint.readConfig(dir);
        if (!saved.equals(model.config())) {
            throw new IOException(dir + ": config " + saved + " differs from the model's " + model.config());
        }
        LlamaCheckpoint.loadWeights(model, dir.resolve(LlamaCheckpoint.WEIGHTS));
    }

    @Override
    public String configJson() {
        return model.config().toJson();
    }
}
