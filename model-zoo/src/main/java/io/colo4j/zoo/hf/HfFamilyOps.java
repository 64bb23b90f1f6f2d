package io.colo4j.zoo.hf;

import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;

/** A family's configs and model folders without its types: what one code path for every family calls ({@link HfFamily}). */
public interface HfFamilyOps {
    /** HF's model_type of the family's config.json. */
    String modelType();

    HfConfig config(String name);

    /** {@code dir/config.json}. */
    HfConfig readConfig(Path dir) throws IOException;

    /** {@code config} with every dropout probability {@code p}. */
    HfConfig withDropout(HfConfig config, float p);

    /** The config fields that count each stack's layers (T5: encoder and decoder). */
    java.util.List<String> layerFields();

    /**
     * A small stand-in for {@code config}: each stack cut to at most {@code maxLayers} layers, the
     * given vocabulary (token ids outside it become its last id) and position count.
     */
    HfConfig proxy(HfConfig config, int maxLayers, int vocabSize, int positions);

    /** The serial model of {@code config} (lazy inside an InitContext). */
    Module build(HfConfig config, long seed);

    /** Overwrites {@code model}'s parameters, or its shards, with those of model folder {@code dir}. */
    void loadWeights(Module model, Path dir) throws IOException;

    /** The built model as the trainer sees it. */
    LanguageModel languageModel(Module model);
}
