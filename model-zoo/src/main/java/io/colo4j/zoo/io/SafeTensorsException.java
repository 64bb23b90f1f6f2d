package io.colo4j.zoo.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file (or model folder) that is broken, hostile or does not fit what the caller needs.
 * The message always names the file and, where one is involved, the tensor.
 */
public final class SafeTensorsException extends IOException {
    private final transient Path file;
    private final String tensor;

    public SafeTensorsException(Path file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    public SafeTensorsException(Path file, String tensor, String problem, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + problem, cause);
        this.file = file;
        this.tensor = tensor;
    }

    public Path file() {
        return file;
    }

    /** The tensor involved, or null for a problem with the file as a whole. */
    public String tensor() {
        return tensor;
    }
}
