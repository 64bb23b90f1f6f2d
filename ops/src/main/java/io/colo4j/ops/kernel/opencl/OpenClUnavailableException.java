package io.colo4j.ops.kernel.opencl;

/** The opencl backend was asked for but cannot run here (no platform, no device, program build failure). */
public class OpenClUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OpenClUnavailableException(String message) {
        super(message);
    }

    public OpenClUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
