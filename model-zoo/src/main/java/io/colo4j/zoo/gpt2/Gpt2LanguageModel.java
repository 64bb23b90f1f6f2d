package io.colo4j.zoo.gpt2;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;

/** A {@link Gpt2Model} as the trainer sees it; checkpoints are HF model folders. */
public final class Gpt2LanguageModel implements LanguageModel {
    private final Gpt2Model model;

    public Gpt2LanguageModel(Gpt2Model model) {
        this.model = model;
    }

    public Gpt2Model model() {
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
        return model.config().nPositions();
    }

    @Override
    public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
        model.setStep(step);
        return model.loss(inputs, targets);
    }

    @Override
    public void save(Path dir) throws IOException {
        Gpt2Checkpoint.save(model, dir);
    }

    @Override
    public void load(Path dir) throws IOException {
        Gpt2Config saved = Gpt2Checkpoint.readConfig(dir);
        if (!saved.equals(model.config())) {
            throw new IOException(dir + ": config " + saved + " differs from the model's " + model.config());
        }
        Gpt2Checkpoint.loadWeights(model, dir.resolve(Gpt2Checkpoint.WEIGHTS));
    }

    @Override
    public String configJson() {
        return model.config().toJson();
    }
}
