package io.colo4j.cli.fuzz;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/** The kinds of input a user hands colo4j, each with its corpus and the command it goes to. */
public enum InputClass {
    /** model.safetensors of a model folder, through {@code eval}. */
    SAFETENSORS("safetensors", SafeTensorsCorpus::new),
    /** config.json of a model folder, through {@code eval}. */
    CONFIG("config", ConfigCorpus::new),
    /** a {@code --rules} file, through {@code coverage --strict}. */
    RULES("rules", RulesCorpus::new),
    /** {@code --tokens} (eval), {@code --data} and {@code --tokenizer} (train) files. */
    DATA("data", DataCorpus::new),
    /** command-line options of train, eval and generate. */
    OPTIONS("options", OptionsCorpus::new),
    /** model.safetensors stored as F16, BF16 or F64, with values not finite once converted, through {@code eval}. */
    HALF("half", HalfPrecisionCorpus::new),
    /** a save folder's checkpoint damaged, and what killed writers leave, through {@code train --resume}. */
    CHECKPOINT("checkpoint", CheckpointCorpus::new);

    private final String label;
    private final Function<FuzzAssets, Corpus> corpus;

    InputClass(String label, Function<FuzzAssets, Corpus> corpus) {
        this.label = label;
        this.corpus = corpus;
    }

    public String label() {
        return label;
    }

    Corpus corpus(FuzzAssets assets) {
        return corpus.apply(assets);
    }

    /** By label (as {@code --class} takes it). */
    public static InputClass of(String label) {
        for (InputClass c : values()) {
            if (c.label.equals(label.toLowerCase(Locale.ROOT))) {
                return c;
            }
        }
        throw new IllegalArgumentException("--class " + label + ": one of " + Arrays.stream(values()).map(InputClass::label).toList());
    }
}
