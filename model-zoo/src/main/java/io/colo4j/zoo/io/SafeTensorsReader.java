package io.colo4j.zoo.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file: memory-maps it, validates the whole header up front as the format's reference
 * implementation does (a UTF-8 JSON object; sizes and types; no duplicate names; the tensors, sorted by
 * offset, cover the data section exactly: each begins where the one before ends and the last ends at the
 * end of the file, so a header length a few bytes off, a hole or trailing bytes are refused rather than
 * read shifted), then copies a tensor, or a block of it such as one rank's shard, into a float32
 * {@link Tensor}, converting F16/BF16/F64 on the way and refusing the first NaN or infinity it reads
 * (naming the tensor and the element) unless opened with {@code allowNonFinite}.
 *
 * <p>Every problem with the file surfaces as a {@link SafeTensorsException} naming the file and tensor;
 * nothing is allocated from a size the file merely claims (the header is bounded by {@link #MAX_HEADER_BYTES}
 * and by the file's real length, and every tensor by the bytes actually present). Only a regular file is
 * opened (a FIFO would block the reader forever).
 */
public final class SafeTensorsReader implements AutoCloseable {
    /** The largest header accepted, as the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final JsonMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final boolean allowNonFinite;

    private SafeTensorsReader(Path file, Arena arena, MemorySegment data, long dataStart,
                              Map<String, TensorInfo> tensors, Map<String, String> metadata, boolean allowNonFinite) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
        this.allowNonFinite = allowNonFinite;
    }

    /** The system property that lets every reader load NaN and infinite values ({@code --allow-nonfinite} sets it). */
    public static final String ALLOW_NONFINITE = "colo4j.allowNonFinite";

    /**
     * Opens and validates {@code file}; reads refuse NaN and infinite values unless the system property
     * {@value #ALLOW_NONFINITE} is true; close the reader to unmap it.
     */
    public static SafeTensorsReader open(Path file) throws IOException {
        return open(file, Boolean.getBoolean(ALLOW_NONFINITE));
    }

    /** As {@link #open(Path)}; {@code allowNonFinite} lets reads return NaN and infinite values as they are. */
    public static SafeTensorsReader open(Path file, boolean allowNonFinite) throws IOException {
        InputFiles.requireRegular(file, "safetensors file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(file, null, "file is " + size + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new SafeTensorsException(file, null, "header length " + Long.toUnsignedString(headerLen)
                        + " is absurd (limit " + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
            }
            if (headerLen > size - 8) {
                throw new SafeTensorsException(file, null, "header length " + headerLen + " runs past the end of the file ("
                        + size + " bytes): truncated?");
            }
            if (headerLen < 2) {
                throw new SafeTensorsException(file, null, "header length " + headerLen + " is too short for a JSON object");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8, file);
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(file, header.array(), dataSize, metadata);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafeTensorsReader(file, arena, mapped, dataStart, tensors, Collections.unmodifiableMap(metadata),
                        allowNonFinite);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new SafeTensorsException(file, null, "unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path file, byte[] header, long dataSize, Map<String, String> metadata)
            throws SafeTensorsException {
        String text;
        try {
            // decoded strictly first: Jackson lets some invalid UTF-8 through (in the padding, surrogates)
            text = InputFiles.decodeUtf8(header, file, 8, "header");
        } catch (InputFiles.NotUtf8Exception e) {
            throw new SafeTensorsException(file, null, e.problem());
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new SafeTensorsException(file, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new SafeTensorsException(file, null, "header cannot be read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException(file, null, "header is not a JSON object");
        }
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new SafeTensorsException(file, null, "__metadata__ is not a JSON object of strings");
                }
                for (Map.Entry<String, JsonNode> kv : v.properties()) {
                    if (!kv.getValue().isTextual()) {
                        throw new SafeTensorsException(file, null, "__metadata__ value for '" + kv.getKey() + "' is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            out.put(name, parseEntry(file, name, v, dataSize));
        }
        checkCoverage(file, out.values(), dataSize);
        return Collections.unmodifiableMap(out);
    }

    /**
     * The reference implementation's rule: sorted by (begin, end), each tensor begins where the one before
     * ended and the last ends at the end of the file. Anything else is an overlap, a hole, trailing bytes,
     * or a header length that is off (its cut falls in the padding, which then shifts every tensor).
     */
    private static void checkCoverage(Path file, Collection<TensorInfo> tensors, long dataSize) throws SafeTensorsException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long covered = 0;
        TensorInfo prev = null;
        for (TensorInfo cur : byOffset) {
            if (cur.begin() < covered) {
                throw new SafeTensorsException(file, cur.name(), "data [" + cur.begin() + ", " + cur.end()
                        + ") overlaps tensor '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + ")");
            }
            if (cur.begin() > covered) {
                throw new SafeTensorsException(file, cur.name(), "data [" + cur.begin() + ", " + cur.end() + ") leaves a hole of "
                        + (cur.begin() - covered) + " bytes after " + (prev == null ? "the header" : "tensor '" + prev.name() + "'")
                        + " (tensors must cover the data section exactly)");
            }
            covered = cur.end();
            prev = cur;
        }
        if (covered != dataSize) {
            throw new SafeTensorsException(file, null, "the tensors cover " + covered + " bytes of a data section of " + dataSize
                    + ": " + (dataSize - covered) + " trailing bytes (a header length that is too short, or garbage appended)");
        }
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode v, long dataSize) throws SafeTensorsException {
        if (name.isEmpty()) {
            throw new SafeTensorsException(file, name, "empty tensor name");
        }
        if (!v.isObject()) {
            throw new SafeTensorsException(file, name, "entry is not a JSON object");
        }
        JsonNode dtypeNode = v.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafeTensorsException(file, name, "missing or non-string dtype");
        }
        DType dtype = DType.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafeTensorsException(file, name, "unknown dtype '" + dtypeNode.textValue() + "'");
        }
        JsonNode shapeNode = v.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new SafeTensorsException(file, name, "missing or non-array shape");
        }
        if (shapeNode.size() > 16) {
            throw new SafeTensorsException(file, name, "shape has " + shapeNode.size() + " dims (at most 16 supported)");
        }
        int[] shape = new int[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw new SafeTensorsException(file, name, "shape " + shapeNode + " has a dim that is not an int >= 0");
            }
            shape[i] = d.intValue();
            try {
                numel = Math.multiplyExact(numel, (long) shape[i]);
            } catch (ArithmeticException overflow) {
                throw new SafeTensorsException(file, name, "shape " + shapeNode + " overflows");
            }
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new SafeTensorsException(file, name, "data_offsets is not a [begin, end] pair");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = off.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw new SafeTensorsException(file, name, "data_offsets " + off + " are not integers >= 0");
            }
            be[i] = o.longValue();
        }
        if (be[0] > be[1]) {
            throw new SafeTensorsException(file, name, "data_offsets " + off + " end before they begin");
        }
        if (be[1] > dataSize) {
            throw new SafeTensorsException(file, name, "data_offsets " + off + " lie outside the data section of "
                    + dataSize + " bytes: truncated file?");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, (long) dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw new SafeTensorsException(file, name, "shape " + shapeNode + " overflows");
        }
        if (be[1] - be[0] != expected) {
            throw new SafeTensorsException(file, name, "holds " + (be[1] - be[0]) + " bytes but " + dtype + Arrays.toString(shape)
                    + " needs " + expected);
        }
        return new TensorInfo(name, dtype, shape, be[0], be[1]);
    }

    public Path file() {
        return file;
    }

    /** Tensor names in header order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public TensorInfo info(String name) throws SafeTensorsException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafeTensorsException(file, name, "no such tensor");
        }
        return info;
    }

    /** The header's {@code __metadata__} (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The whole tensor as a new float32 tensor (from the current memory scope). */
    public Tensor read(String name) throws SafeTensorsException {
        Tensor t = Tensor.zeros(info(name).shape());
        readInto(name, t);
        return t;
    }

    /** Every tensor, by name, in header order. */
    public Map<String, Tensor> readAll() throws SafeTensorsException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : tensors.keySet()) {
            out.put(name, read(name));
        }
        return out;
    }

    /** Copies the whole tensor into {@code dst}, which must have its shape. */
    public void readInto(String name, Tensor dst) throws SafeTensorsException {
        TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), dst.localShape())) {
            throw new SafeTensorsException(file, name, "has shape " + Arrays.toString(info.shape())
                    + " but the destination is " + Arrays.toString(dst.localShape()));
        }
        readBlock(name, new int[info.shape().length], dst);
    }

    /** The block of {@code size} starting at {@code offset} (per dim), as a new float32 tensor. */
    public Tensor readBlock(String name, int[] offset, int[] size) throws SafeTensorsException {
        checkBlock(info(name), offset, size);
        Tensor t = Tensor.zeros(size);
        readBlock(name, offset, t);
        return t;
    }

    /**
     * Copies the block of the tensor that starts at {@code offset} (per dim) and has {@code dst}'s shape
     * into {@code dst}: how a rank loads just its shard of a parameter.
     */
    public void readBlock(String name, int[] offset, Tensor dst) throws SafeTensorsException {
        TensorInfo info = info(name);
        int[] size = dst.localShape();
        checkBlock(info, offset, size);
        if (!info.dtype().convertsToFloat()) {
            throw new SafeTensorsException(file, name, "dtype " + info.dtype() + " cannot be read as float32");
        }
        if (dst.localNumel() == 0) {
            return;
        }
        if (!dst.isContiguous()) {
            Tensor tmp = Tensor.zeros(size);
            readBlock(name, offset, tmp);
            try (GradMode.Guard ignored = GradMode.disabled()) {
                dst.copyFrom(tmp);
            }
            return;
        }
        int[] full = info.shape();
        int rank = full.length;
        long[] srcStrides = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            srcStrides[d] = s;
            s *= full[d];
        }
        int rowLen = rank == 0 ? 1 : size[rank - 1];
        long rows = dst.localNumel() / rowLen;
        int[] idx = new int[Math.max(rank - 1, 0)];
        MemorySegment out = dst.segment();
        long dstElem = dst.offset();
        long base = dataStart + info.begin();
        int elemBytes = info.dtype().bytes();
        for (long r = 0; r < rows; r++) {
            long srcElem = rank == 0 ? 0 : offset[rank - 1];
            for (int d = 0; d < rank - 1; d++) {
                srcElem += (long) (offset[d] + idx[d]) * srcStrides[d];
            }
            convert(info.dtype(), base + srcElem * elemBytes, out, dstElem, rowLen);
            if (!allowNonFinite) {
                requireFinite(info, out, dstElem, rowLen, srcElem);
            }
            dstElem += rowLen;
            for (int d = rank - 2; d >= 0; d--) {
                if (++idx[d] < size[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /** Refuses the first NaN or infinity among the {@code n} floats just converted; {@code srcElem}: their index in the file tensor. */
    private void requireFinite(TensorInfo info, MemorySegment dst, long dstElem, int n, long srcElem) throws SafeTensorsException {
        int bad = NonFinite.first(dst, dstElem, n);
        if (bad >= 0) {
            long at = srcElem + bad;
            float v = dst.getAtIndex(ValueLayout.JAVA_FLOAT, dstElem + bad);
            throw new SafeTensorsException(file, info.name(), "element " + at + " " + Arrays.toString(NonFinite.index(info.shape(), at))
                    + " is " + v + (info.dtype() == DType.F64 ? " (as float32)" : "")
                    + "; non-finite weights would train to a NaN loss (--allow-nonfinite loads them anyway)");
        }
    }

    private void checkBlock(TensorInfo info, int[] offset, int[] size) throws SafeTensorsException {
        int[] full = info.shape();
        if (offset.length != full.length || size.length != full.length) {
            throw new SafeTensorsException(file, info.name(), "block offset " + Arrays.toString(offset) + " / size "
                    + Arrays.toString(size) + " does not match the tensor's rank " + full.length);
        }
        for (int d = 0; d < full.length; d++) {
            if (offset[d] < 0 || size[d] < 0 || (long) offset[d] + size[d] > full[d]) {
                throw new SafeTensorsException(file, info.name(), "block at " + Arrays.toString(offset) + " of size "
                        + Arrays.toString(size) + " lies outside its shape " + Arrays.toString(full));
            }
        }
    }

    private void convert(DType dtype, long srcByte, MemorySegment dst, long dstElem, int n) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, srcByte, dst, ValueLayout.JAVA_FLOAT, dstElem * Float.BYTES, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT, dstElem + i, Float.float16ToFloat(data.get(I16_LE, srcByte + 2L * i)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    int bits = (data.get(I16_LE, srcByte + 2L * i) & 0xFFFF) << 16;
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT, dstElem + i, Float.intBitsToFloat(bits));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT, dstElem + i, (float) data.get(F64_LE, srcByte + 8L * i));
                }
            }
            default -> throw new IllegalStateException("unreachable: " + dtype);
        }
    }

    /** Unmaps the file; tensors already read stay valid (they are copies). */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafeTensorsReader[" + file + ", " + tensors.size() + " tensors]";
    }
}
