package io.colo4j.zoo.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes float32 tensors as a safetensors file (header padded with spaces to 8 bytes, data little-endian,
 * tensors in the map's order), atomically through {@link AtomicFiles}: a crash never leaves a partial
 * file under the final name.
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK_FLOATS = 1 << 20;

    private SafeTensorsWriter() {}

    public static void write(Path file, Map<String, ? extends Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    public static void write(Path file, Map<String, ? extends Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_FLOATS * Float.BYTES);
            MemorySegment chunkSeg = MemorySegment.ofBuffer(chunk);
            for (Tensor t : tensors.values()) {
                Tensor c = t.isContiguous() ? t : t.copy();
                MemorySegment src = c.segment();
                long base = c.offset();
                long n = c.numel();
                for (long done = 0; done < n; ) {
                    int count = (int) Math.min(CHUNK_FLOATS, n - done);
                    MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, (base + done) * Float.BYTES, chunkSeg, F32_LE, 0, count);
                    chunk.clear().limit(count * Float.BYTES);
                    writeFully(ch, chunk);
                    done += count;
                }
            }
        });
    }

    static byte[] header(Map<String, ? extends Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, ? extends Tensor> e : tensors.entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().equals("__metadata__")) {
                throw new IllegalArgumentException("safetensors: '" + e.getKey() + "' cannot be a tensor name");
            }
            long bytes = e.getValue().numel() * Float.BYTES;
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", "F32");
            entry.put("shape", e.getValue().shape());
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** For error messages and tests: the header a write would produce, as text. */
    static String headerText(Map<String, ? extends Tensor> tensors, Map<String, String> metadata) throws IOException {
        return new String(header(tensors, metadata), StandardCharsets.UTF_8).strip();
    }
}
