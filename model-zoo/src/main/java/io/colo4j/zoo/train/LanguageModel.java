package io.colo4j.zoo.train;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** What the {@link Trainer} needs from a causal language model. */
public interface LanguageModel {
    /** The module tree: its named parameters are what the optimizer updates and checkpoints hold. */
    Module module();

    /** Ids the model accepts are 0 .. vocabSize()-1. */
    int vocabSize();

    /** Longest sequence the model accepts. */
    int maxSequenceLength();

    /**
     * Window lengths at which every token costs the model the same: 1 for a model that reads the window
     * as one sequence; T5 splits it into encoder and decoder halves, which are equal only for even
     * windows (2). Work and communication are exactly proportional to the window only for multiples of
     * this, which the sizing plan relies on.
     */
    default int windowStep() {
        return 1;
    }

    /**
     * Mean next-token cross-entropy of {@code inputs} [B, T] against {@code targets} [B, T] for optimizer
     * step {@code step} (which selects the dropout masks, so a resumed run draws the same ones).
     */
    Tensor loss(IntTensor inputs, IntTensor targets, long step);

    /**
     * {@code eval}'s loss of a tokens file's lines, summed with the number of predicted tokens: by default a causal
     * LM's next-token cross-entropy ({@link Evaluation#nextTokenSum}); a family whose loss is another overrides it.
     * Called in eval mode without a graph.
     */
    default Evaluation.Sum evalLoss(List<Evaluation.Line> lines, int maxBatch) {
        return Evaluation.nextTokenSum(this, lines, maxBatch);
    }

    /** Writes the model as a self-contained folder (e.g. HF config.json + model.safetensors). */
    void save(Path dir) throws IOException;

    /** Overwrites the parameters with those of a folder written by {@link #save} (same architecture). */
    void load(Path dir) throws IOException;

    /** The architecture as JSON, to check a checkpoint belongs to this model. */
    String configJson();

    /** Another model with a different loss (a probe, a test's fault): everything else is {@link #inner()}'s. */
    interface LossWrapper extends LanguageModel {
        LanguageModel inner();

        @Override
        default Module module() {
            return inner().module();
        }

        @Override
        default int vocabSize() {
            return inner().vocabSize();
        }

        @Override
        default int maxSequenceLength() {
            return inner().maxSequenceLength();
        }

        @Override
        default int windowStep() {
            return inner().windowStep();
        }

        @Override
        default void save(Path dir) throws IOException {
            inner().save(dir);
        }

        @Override
        default void load(Path dir) throws IOException {
            inner().load(dir);
        }

        @Override
        default String configJson() {
            return inner().configJson();
        }
    }
}
