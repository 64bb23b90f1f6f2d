package io.colo4j.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    static Tensor ramp(int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.5f - 3f;
        }
        return Tensor.of(v, shape);
    }

    /** A safetensors file from a raw header string and data bytes. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    Path write(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    @Test
    void roundTripsTensorsMetadataAndHeaderLayout() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", ramp(3, 5));
        tensors.put("b", ramp(7));
        tensors.put("scalar", Tensor.scalar(42f));
        tensors.put("empty", Tensor.zeros(0, 4));
        tensors.put("transposed", ramp(2, 3).transpose(0, 1));
        Path f = dir.resolve("m.safetensors");
        SafeTensorsWriter.write(f, tensors, Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(f);
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLen % 8).isZero();
        try (SafeTensorsReader r = SafeTensorsReader.open(f)) {
            assertThat(r.names()).containsExactly("a.weight", "b", "scalar", "empty", "transposed");
            assertThat(r.metadata()).containsEntry("format", "pt");
            for (var e : tensors.entrySet()) {
                Tensor got = r.read(e.getKey());
                assertThat(got.shape()).isEqualTo(e.getValue().shape());
                assertThat(got.toFloatArray()).containsExactly(e.getValue().toFloatArray());
            }
            assertThat(r.info("a.weight").dtype()).isEqualTo(DType.F32);
            assertThat(r.info("b").byteSize()).isEqualTo(28);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("m.safetensors");
        }
    }

    @Test
    void readsBlocksForShardsIntoContiguousAndStridedDestinations() throws IOException {
        Tensor full = ramp(4, 6, 5);
        Path f = dir.resolve("s.safetensors");
        SafeTensorsWriter.write(f, Map.of("w", full));
        try (SafeTensorsReader r = SafeTensorsReader.open(f)) {
            Tensor block = r.readBlock("w", new int[] {1, 2, 0}, new int[] {2, 3, 5});
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int k = 0; k < 5; k++) {
                        assertThat(block.get(i, j, k)).isEqualTo(full.get(1 + i, 2 + j, k));
                    }
                }
            }
            // a column shard (last dim) into a transposed (non-contiguous) destination
            Tensor dst = Tensor.zeros(2, 6, 4).transpose(0, 2);
            r.readBlock("w", new int[] {0, 0, 3}, dst);
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 6; j++) {
                    for (int k = 0; k < 2; k++) {
                        assertThat(dst.get(i, j, k)).isEqualTo(full.get(i, j, 3 + k));
                    }
                }
            }
            assertThatThrownBy(() -> r.readBlock("w", new int[] {3, 0, 0}, new int[] {2, 6, 5}))
                    .isInstanceOf(SafeTensorsException.class).hasMessageContaining("'w'").hasMessageContaining("outside");
            assertThatThrownBy(() -> r.readInto("w", Tensor.zeros(4, 6)))
                    .isInstanceOf(SafeTensorsException.class).hasMessageContaining("shape");
            assertThatThrownBy(() -> r.read("nope")).isInstanceOf(SafeTensorsException.class).hasMessageContaining("'nope'");
        }
    }

    @Test
    void convertsHalfBfloatAndDoubleToFloat32() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(2 * 3 + 2 * 3 + 8 * 2).order(ByteOrder.LITTLE_ENDIAN);
        float[] halves = {1.5f, -2.25f, 65504f};
        for (float h : halves) {
            d.putShort(Float.floatToFloat16(h));
        }
        float[] bf = {1f, -3.5f, 1e20f};
        for (float b : bf) {
            d.putShort((short) (Float.floatToIntBits(b) >>> 16));
        }
        d.putDouble(0.1).putDouble(-7.0);
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[6,12]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[12,28]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[28,28]}}";
        Path f = write("mixed.safetensors", file(header, d.array()));
        try (SafeTensorsReader r = SafeTensorsReader.open(f)) {
            assertThat(r.read("h").toFloatArray()).containsExactly(halves);
            float[] b = r.read("b").toFloatArray();
            assertThat(b[0]).isEqualTo(1f);
            assertThat(b[1]).isEqualTo(-3.5f);
            assertThat(b[2]).isEqualTo(Float.intBitsToFloat(Float.floatToIntBits(1e20f) & 0xFFFF0000));
            assertThat(r.read("d").toFloatArray()).containsExactly(0.1f, -7f);
            assertThatThrownBy(() -> r.read("i")).isInstanceOf(SafeTensorsException.class).hasMessageContaining("I64");
        }
    }

    @Test
    void brokenAndHostileFilesFailWithTheFileAndTensorNamed() throws IOException {
        byte[] data = floats(1, 2, 3, 4);
        String ok = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        assertThat(open("ok", file(ok, data))).isNull();

        assertThat(open("tiny", new byte[] {1, 2, 3})).hasMessageContaining("tiny").hasMessageContaining("too short");
        byte[] absurd = file(ok, data);
        ByteBuffer.wrap(absurd).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100L << 30);
        assertThat(open("absurd", absurd)).hasMessageContaining("absurd");
        byte[] negative = file(ok, data);
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5L);
        assertThat(open("negative", negative)).hasMessageContaining("absurd");
        byte[] beyond = file(ok, data);
        ByteBuffer.wrap(beyond).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        assertThat(open("beyond", beyond)).hasMessageContaining("past the end");
        byte[] full = file(ok, data);
        byte[] truncated = java.util.Arrays.copyOf(full, full.length - 3);
        assertThat(open("truncated", truncated)).hasMessageContaining("'x'").hasMessageContaining("outside the data section");

        assertThat(open("array", file("[1,2,3]", data))).hasMessageContaining("not a JSON object");
        assertThat(open("garbage", file("{\"x\": nope}", data))).hasMessageContaining("not valid JSON");
        assertThat(open("trailing", file(ok + "{}", data))).hasMessageContaining("not valid JSON");
        assertThat(open("dup", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", data))).hasMessageContaining("Duplicate").hasMessageContaining("x");
        assertThat(open("overlap", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", data)))
                .hasMessageContaining("overlaps").hasMessageContaining("'y'").hasMessageContaining("'x'");
        assertThat(open("outside", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", data)))
                .hasMessageContaining("'x'").hasMessageContaining("outside");
        assertThat(open("mismatch", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", data)))
                .hasMessageContaining("'x'").hasMessageContaining("needs 12");
        assertThat(open("dtype", file("{\"x\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,16]}}", data)))
                .hasMessageContaining("'x'").hasMessageContaining("unknown dtype 'Q4'");
        assertThat(open("shape", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", data)))
                .hasMessageContaining("'x'").hasMessageContaining("shape");
        assertThat(open("huge", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,16]}}", data)))
                .hasMessageContaining("'x'");
        assertThat(open("offsets", file("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}", data)))
                .hasMessageContaining("'x'");
        assertThat(open("meta", file("{\"__metadata__\":{\"a\":1}}", data))).hasMessageContaining("__metadata__");
        assertThat(open("deep", file("{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}", data))).hasMessageContaining("nesting");
    }

    /** The exception opening and reading everything raises, or null when the file loads. */
    private SafeTensorsException open(String name, byte[] content) throws IOException {
        Path p = write(name, content);
        try (SafeTensorsReader r = SafeTensorsReader.open(p)) {
            r.readAll();
            return null;
        } catch (SafeTensorsException e) {
            assertThat(e.getMessage()).contains(p.toString());
            return e;
        }
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaries() throws IOException {
        Path f = dir.resolve("w.safetensors");
        SafeTensorsWriter.write(f, Map.of("x", ramp(4)));
        byte[] before = Files.readAllBytes(f);
        assertThatThrownBy(() -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("simulated crash mid-write");
        })).hasMessageContaining("simulated");
        assertThat(Files.readAllBytes(f)).isEqualTo(before);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("w.safetensors");
        }
        SafeTensorsWriter.write(f, Map.of("y", ramp(2)));
        try (SafeTensorsReader r = SafeTensorsReader.open(f)) {
            assertThat(r.names()).containsExactly("y");
        }
    }

    @Test
    void publishDirectoryReplacesAFolderAtomically() throws IOException {
        Path target = dir.resolve("ckpt");
        Path staged = dir.resolve(".ckpt.tmp");
        Files.createDirectories(staged);
        Files.writeString(staged.resolve("a"), "one");
        AtomicFiles.publishDirectory(staged, target);
        Files.createDirectories(staged);
        Files.writeString(staged.resolve("b"), "two");
        AtomicFiles.publishDirectory(staged, target);
        assertThat(Files.exists(target.resolve("a"))).isFalse();
        assertThat(Files.readString(target.resolve("b"))).isEqualTo("two");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("ckpt");
        }
    }

    @Test
    void refusesWhatTheFormatForbids() throws IOException {
        String two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%d,%d]}}";
        Path hole = write("hole.safetensors", file(two.formatted(12, 16), floats(1, 2, 0, 3)));
        assertThatThrownBy(() -> SafeTensorsReader.open(hole)).isInstanceOf(SafeTensorsException.class)
                .hasMessage(hole + ": tensor 'b': data [12, 16) leaves a hole of 4 bytes after tensor 'a' (tensors must cover the data section exactly)");
        Path trailing = write("trailing.safetensors", file(two.formatted(8, 12), floats(1, 2, 3, 4)));
        assertThatThrownBy(() -> SafeTensorsReader.open(trailing)).isInstanceOf(SafeTensorsException.class)
                .hasMessageStartingWith(trailing + ": the tensors cover 12 bytes of a data section of 16: 4 trailing bytes");
        // the writer pads the header with spaces; a length 3 bytes short still parses, and every tensor would read shifted
        Path good = dir.resolve("good.safetensors");
        SafeTensorsWriter.write(good, Map.of("w", ramp(2, 3)));
        byte[] shifted = Files.readAllBytes(good);
        long len = ByteBuffer.wrap(shifted).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        ByteBuffer.wrap(shifted).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len - 3);
        Path shift = write("shift.safetensors", shifted);
        assertThatThrownBy(() -> SafeTensorsReader.open(shift)).isInstanceOf(SafeTensorsException.class)
                .hasMessageContaining("trailing bytes");
        // the name's two UTF-8 bytes become one ISO-8859-1 byte: an invalid lone 0xE9
        String header = "{\"\u00e9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        byte[] notUtf8 = ByteBuffer.allocate(8 + h.length + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(floats(1)).array();
        Path bad = write("latin1.safetensors", notUtf8);
        assertThatThrownBy(() -> SafeTensorsReader.open(bad)).isInstanceOf(SafeTensorsException.class)
                .hasMessage(bad + ": the header is not UTF-8 text: byte e9 at offset 10 is not valid UTF-8");
    }

    @Test
    void refusesNonFiniteWeightsNamingTensorAndElementUnlessAllowed() throws IOException {
        Path f32 = write("nan.safetensors", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}",
                floats(1, 2, 3, 4, Float.NaN, Float.POSITIVE_INFINITY)));
        try (SafeTensorsReader r = SafeTensorsReader.open(f32)) {
            assertThatThrownBy(() -> r.read("w")).isInstanceOf(SafeTensorsException.class)
                    .hasMessageStartingWith(f32 + ": tensor 'w': element 4 [1, 1] is NaN; non-finite weights would train to a NaN loss");
            // a block that holds no bad value reads: the check is on what is read (a rank's shard), not the whole file
            assertThat(r.readBlock("w", new int[] {0, 0}, new int[] {2, 1}).toFloatArray()).containsExactly(1, 4);
            assertThatThrownBy(() -> r.readBlock("w", new int[] {1, 2}, new int[] {1, 1}))
                    .hasMessageContaining("tensor 'w': element 5 [1, 2] is Infinity");
        }
        try (SafeTensorsReader r = SafeTensorsReader.open(f32, true)) {
            assertThat(r.read("w").toFloatArray()).containsExactly(1, 2, 3, 4, Float.NaN, Float.POSITIVE_INFINITY);
        }
        // F16 infinity, and an F64 value that overflows float32 on conversion
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3C00).putShort((short) 0xFC00);
        ByteBuffer dbl = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1e300).putDouble(1);
        Path f16 = write("f16.safetensors", file("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[4,20]}}", concat(half.array(), dbl.array())));
        try (SafeTensorsReader r = SafeTensorsReader.open(f16)) {
            assertThatThrownBy(() -> r.read("h")).hasMessageContaining("tensor 'h': element 1 [1] is -Infinity");
            assertThatThrownBy(() -> r.read("d")).hasMessageContaining("tensor 'd': element 0 [0] is Infinity (as float32)");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
