package io.colo4j.zoo.hf;

import io.colo4j.zoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A family's hyper-parameters: a record whose components carry HF's config.json names
 * ({@code @JsonProperty}), read and written by its {@link HfConfigFormat}.
 */
public interface HfConfig {
    /** Ids the model accepts are 0 .. vocabSize()-1. */
    int vocabSize();

    /** Longest sequence the model accepts. */
    int maxPositions();

    /** How this record is read from and written to config.json. */
    HfConfigFormat<?> format();

    /** HF-style config.json content. */
    default String toJson() {
        return format().toJson(this);
    }

    /** Writes config.json atomically. */
    default void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}
