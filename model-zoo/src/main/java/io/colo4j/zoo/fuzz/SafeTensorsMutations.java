package io.colo4j.zoo.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Hostile copies of a valid safetensors file, drawn from a seeded random source: {@link #mutate} (truncations,
 * bit flips, hostile header tokens, header lengths, inserted and deleted bytes: the reader may load or refuse
 * them) and {@link Forbidden} (what the format or the loader forbids: each must be refused, with the words its
 * refusal must contain). The one generator both {@code SafeTensorsFuzzTest} and {@code bench fuzz} draw from.
 */
public final class SafeTensorsMutations {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensorsMutations() {}

    /** Where the data section of {@code file} starts: 8 + its header length. */
    public static int headerEnd(byte[] file) {
        return 8 + (int) ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** What the format (or the loader, for non-finite weights) forbids, each with what its refusal must say. */
    public enum Forbidden {
        SHORT_HEADER_LENGTH("trailing bytes|overlaps|not valid JSON|runs past"),
        HOLE("leaves a hole"),
        TRAILING_BYTES("trailing bytes"),
        NOT_UTF8("not UTF-8 text: byte .* at offset \\d+"),
        NON_FINITE("element \\d+ .* is (NaN|Infinity|-Infinity)");

        /** A regular expression the refusal's message must contain. */
        public final String says;

        Forbidden(String says) {
            this.says = says;
        }

        /** A copy of {@code original} (a valid file whose data section starts at {@code headerEnd}) broken this way. */
        public byte[] apply(byte[] original, int headerEnd, SplittableRandom rng) {
            return switch (this) {
                case SHORT_HEADER_LENGTH -> { // the cut falls in the padding spaces: still valid JSON
                    byte[] b = original.clone();
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerEnd - 8 - 1 - rng.nextInt(7));
                    yield b;
                }
                case HOLE -> hole(original, headerEnd, rng);
                case TRAILING_BYTES -> {
                    byte[] b = Arrays.copyOf(original, original.length + 1 + rng.nextInt(64));
                    for (int i = original.length; i < b.length; i++) {
                        b[i] = (byte) rng.nextInt(256);
                    }
                    yield b;
                }
                case NOT_UTF8 -> { // an invalid byte in the first tensor name or in the padding
                    byte[] b = original.clone();
                    String h = new String(original, 8, headerEnd - 8, StandardCharsets.ISO_8859_1);
                    int at = rng.nextBoolean() ? 8 + h.indexOf('"') + 1 : headerEnd - 1;
                    b[at] = (byte) (0x80 + rng.nextInt(0x40)); // a continuation byte with no lead byte
                    yield b;
                }
                case NON_FINITE -> {
                    byte[] b = original.clone();
                    List<long[]> f32 = new ArrayList<>(); // begin, element count of each non-empty F32 tensor
                    for (Map.Entry<String, JsonNode> e : header(original, headerEnd).properties()) {
                        JsonNode off = e.getValue().path("data_offsets");
                        if ("F32".equals(e.getValue().path("dtype").asText()) && off.get(1).asLong() > off.get(0).asLong()) {
                            f32.add(new long[] {off.get(0).asLong(), (off.get(1).asLong() - off.get(0).asLong()) / 4});
                        }
                    }
                    long[] t = f32.get(rng.nextInt(f32.size()));
                    float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7F80_0001)};
                    int at = (int) (headerEnd + t[0] + 4 * rng.nextLong(t[1]));
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(at, bad[rng.nextInt(bad.length)]);
                    yield b;
                }
            };
        }
    }

    /** 1-16 bytes inserted before a non-empty tensor that does not start the data section, the offsets after it moved on. */
    private static byte[] hole(byte[] original, int headerEnd, SplittableRandom rng) {
        ObjectNode header = header(original, headerEnd);
        List<Long> begins = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            JsonNode off = e.getValue().path("data_offsets");
            if (off.isArray() && off.get(0).asLong() > 0 && off.get(1).asLong() > off.get(0).asLong()) {
                begins.add(off.get(0).asLong());
            }
        }
        long at = begins.get(rng.nextInt(begins.size()));
        int n = 1 + rng.nextInt(16);
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getValue().path("data_offsets") instanceof ArrayNode off && off.get(0).asLong() >= at) {
                off.set(0, off.numberNode(off.get(0).asLong() + n));
                off.set(1, off.numberNode(off.get(1).asLong() + n));
            }
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int cut = (int) (headerEnd + at);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + original.length - headerEnd + n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(original, headerEnd, cut - headerEnd);
        for (int i = 0; i < n; i++) {
            out.put((byte) rng.nextInt(256));
        }
        out.put(original, cut, original.length - cut);
        return out.array();
    }

    private static ObjectNode header(byte[] file, int headerEnd) {
        try {
            return (ObjectNode) JSON.readTree(new String(file, 8, headerEnd - 8, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("the file to mutate must be valid", e);
        }
    }

    /** One random mutation (or several) of {@code original}: it may still be a valid file, or not. */
    public static byte[] mutate(byte[] original, int headerEnd, SplittableRandom rng) {
        byte[] b = original.clone();
        switch (rng.nextInt(10)) {
            case 0 -> { // truncate anywhere
                return Arrays.copyOf(b, rng.nextInt(b.length));
            }
            case 1 -> { // flip random bits anywhere
                for (int i = 0, n = 1 + rng.nextInt(4); i < n; i++) {
                    int at = rng.nextInt(b.length);
                    b[at] ^= (byte) (1 << rng.nextInt(8));
                }
            }
            case 2 -> { // random bytes in the header
                for (int i = 0, n = 1 + rng.nextInt(3); i < n; i++) {
                    b[8 + rng.nextInt(headerEnd - 8)] = (byte) rng.nextInt(256);
                }
            }
            case 3 -> { // a new header length
                long len = switch (rng.nextInt(4)) {
                    case 0 -> rng.nextLong();
                    case 1 -> headerEnd - 8 + rng.nextInt(-16, 17);
                    case 2 -> rng.nextInt(b.length + 10);
                    default -> 100L << 30;
                };
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
            }
            case 4 -> { // change a digit in the header (shapes and offsets)
                String h = new String(b, 8, headerEnd - 8, StandardCharsets.ISO_8859_1);
                int[] digits = h.chars().map(ch -> Character.isDigit(ch) ? 1 : 0).toArray();
                int count = Arrays.stream(digits).sum();
                if (count > 0) {
                    int pick = rng.nextInt(count);
                    for (int i = 0; i < digits.length; i++) {
                        if (digits[i] == 1 && pick-- == 0) {
                            b[8 + i] = (byte) ('0' + rng.nextInt(10));
                            break;
                        }
                    }
                }
            }
            case 5 -> { // replace a header token with something hostile (bad dtypes, huge and negative shapes, ...)
                String h = new String(b, 8, headerEnd - 8, StandardCharsets.UTF_8);
                String[] from = {"F32", "[5,4]", "[12]", "\"shape\"", "\"data_offsets\"", "{", "}", "]", ",", "\"s\"", "[0,"};
                String[] to = {"F16", "BF16", "I64", "F64", "X9", "[5,4,1]", "[-1]", "[99999999999]", "[1e3]", "null", "\"z\"",
                    "[2147483647,2147483647]", "{}", "[]", "\"transformer.wte.weight\"", "\"__metadata__\"", "[1.5]", "[0,0]", ""};
                String f = from[rng.nextInt(from.length)];
                int at = h.indexOf(f);
                if (at >= 0) {
                    h = h.substring(0, at) + to[rng.nextInt(to.length)] + h.substring(at + f.length());
                }
                byte[] hb = h.getBytes(StandardCharsets.UTF_8);
                ByteBuffer out = ByteBuffer.allocate(8 + hb.length + b.length - headerEnd).order(ByteOrder.LITTLE_ENDIAN);
                out.putLong(hb.length).put(hb).put(b, headerEnd, b.length - headerEnd);
                return out.array();
            }
            case 6 -> { // delete or insert bytes
                int at = rng.nextInt(b.length);
                int n = 1 + rng.nextInt(8);
                if (rng.nextBoolean()) {
                    int cut = Math.min(n, b.length - at);
                    byte[] out = new byte[b.length - cut];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + cut, out, at, b.length - at - cut);
                    return out;
                }
                byte[] out = new byte[b.length + n];
                System.arraycopy(b, 0, out, 0, at);
                for (int i = 0; i < n; i++) {
                    out[at + i] = (byte) rng.nextInt(256);
                }
                System.arraycopy(b, at, out, at + n, b.length - at);
                return out;
            }
            case 7 -> { // data bytes only: must still load (or name a non-finite value they make)
                for (int i = 0, n = 1 + rng.nextInt(8); i < n && b.length > headerEnd; i++) {
                    b[headerEnd + rng.nextInt(b.length - headerEnd)] = (byte) rng.nextInt(256);
                }
            }
            case 8 -> { // header cut short with a matching length field
                int keep = 8 + rng.nextInt(headerEnd - 8);
                byte[] out = Arrays.copyOf(b, keep);
                ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, keep - 8);
                return out;
            }
            default -> { // several mutations at once
                byte[] once = mutate(b, headerEnd, rng);
                return once.length > headerEnd ? mutate(once, headerEnd, rng) : once;
            }
        }
        return b;
    }
}
