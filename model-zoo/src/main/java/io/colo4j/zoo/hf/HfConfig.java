package io.colo4j.zoo.hf;

import io.colo4j.zoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A family's hyper-parameters: a record whose components are HF's config.json names in camelCase
 * (vocab_size is {@code vocabSize}; {@code @JsonProperty} names the odd one out), read and written by
 * the {@link HfConfigFormat} its class declares.
 */
public interface HfConfig {
    /** Ids the model accepts are 0 .. vocabSize()-1 (HF's vocab_size). */
    int vocabSize();

    /** How this record is read from and written to config.json. */
    default HfConfigFormat<?> format() {
        return HfConfigFormat.of(getClass());
    }

    /** Longest sequence the model accepts (the format's positions field). */
    default int maxPositions() {
        return format().maxPositions(this);
    }

    /** HF-style config.json content. */
    default String toJson() {
        return format().toJson(this);
    }

    /** Writes config.json atomically. */
    default void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}
