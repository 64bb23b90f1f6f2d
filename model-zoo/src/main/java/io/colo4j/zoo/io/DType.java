package io.colo4j.zoo.io;

/** The element types a safetensors header may name, with their sizes. */
public enum DType {
    BOOL(1), U8(1), I8(1), F8_E4M3(1), F8_E5M2(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Whether the reader converts this type to float32 (F32, F16, BF16, F64). */
    public boolean convertsToFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** The type named in a header (exact, upper-case spelling), or null when it is not a safetensors dtype. */
    public static DType parse(String name) {
        if (name == null) {
            return null;
        }
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
