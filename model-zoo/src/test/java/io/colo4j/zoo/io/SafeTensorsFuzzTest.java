package io.colo4j.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of mutated and truncated copies of a valid file: every one must either load (every tensor
 * read completely, every value exactly the file's) or fail with a {@link SafeTensorsException}; any
 * other exception or error fails. A quarter of the cases are what the format forbids and must be refused
 * with a message saying so: a header length 1-7 bytes short (read shifted, it once gave plausible losses),
 * a hole between tensors, trailing bytes, a non-UTF-8 header, and NaN or infinite weights (F32, and F16 /
 * F64 values that are or become non-finite), refused at read naming the tensor and the element.
 */
class SafeTensorsFuzzTest {
    private static final int CASES = 10_000;

    @TempDir
    Path dir;

    @Test
    void mutatedFilesLoadOrFailCleanly() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("transformer.wte.weight", SafeTensorsTest.ramp(5, 4));
        tensors.put("transformer.h.0.attn.c_attn.bias", SafeTensorsTest.ramp(12));
        tensors.put("s", Tensor.scalar(1f));
        tensors.put("z", Tensor.zeros(0));
        Path valid = dir.resolve("valid.safetensors");
        SafeTensorsWriter.write(valid, tensors, Map.of("format", "pt"));
        byte[] original = Files.readAllBytes(valid);
        int headerEnd = 8 + (int) ByteBuffer.wrap(original, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        // thousands of rewrites: on tmpfs when there is one, so the disk does not set the pace
        Path shm = Path.of("/dev/shm");
        Path work = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "colo4j-fuzz") : dir;
        Path p = work.resolve("fuzz.safetensors");
        try {
            fuzz(original, headerEnd, p);
        } finally {
            Files.deleteIfExists(p);
            if (!work.equals(dir)) {
                Files.deleteIfExists(work);
            }
        }
    }

    private void fuzz(byte[] original, int headerEnd, Path p) throws IOException {
        SplittableRandom rng = new SplittableRandom(20261124);
        int loaded = 0;
        int rejected = 0;
        long start = System.nanoTime();
        int forbidden = 0;
        for (int c = 0; c < CASES; c++) {
            Forbidden rule = c % 4 == 3 ? Forbidden.values()[rng.nextInt(Forbidden.values().length)] : null;
            byte[] mutated = rule != null ? rule.apply(original, headerEnd, rng) : mutate(original, headerEnd, rng);
            Files.write(p, mutated);
            try (MemoryScope scope = MemoryScope.open(); SafeTensorsReader r = SafeTensorsReader.open(p)) {
                for (String name : r.names()) {
                    TensorInfo info = r.info(name);
                    try {
                        Tensor t = r.read(name);
                        assertThat(t.numel()).isEqualTo(info.numel());
                        assertDecodedFrom(mutated, info, t.toFloatArray());
                    } catch (SafeTensorsException e) {
                        // after a successful open only a dtype that does not convert, or a non-finite value, refuses a read
                        if (info.dtype().convertsToFloat()) {
                            assertNonFiniteNamed(mutated, info, e);
                            if (rule == Forbidden.NON_FINITE) {
                                rule = null; // refused as it must be
                            }
                        }
                    }
                }
                assertThat(rule).as("case %d: %s was accepted: %s", c, rule, preview(mutated)).isNull();
                loaded++;
            } catch (SafeTensorsException e) {
                assertThat(e.getMessage()).contains(p.toString());
                if (rule != null) {
                    assertThat(e.getMessage()).as("case %d (%s)", c, rule).containsPattern(rule.says);
                    forbidden++;
                }
                rejected++;
            } catch (Throwable t) {
                fail("case " + c + ": " + t + " for file bytes " + preview(mutated), t);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("safetensors fuzz: %d cases in %.1f s, %d loaded, %d rejected cleanly (%d of them forbidden by the format)%n",
                CASES, seconds, loaded, rejected, forbidden);
        assertThat(loaded).isPositive();
        assertThat(forbidden).isPositive();
        assertThat(rejected).isPositive();
        assertThat(seconds).as("fuzzing took %.1f s", seconds).isLessThan(30);
    }

    /** A read refused for a non-finite value names the tensor and an element that the file really holds as NaN or infinity. */
    private static void assertNonFiniteNamed(byte[] file, TensorInfo info, SafeTensorsException e) {
        Matcher m = Pattern.compile("tensor '(.*)': element (\\d+) ").matcher(e.getMessage());
        assertThat(m.find()).as("read of %s failed: %s", info.name(), e.getMessage()).isTrue();
        assertThat(m.group(1)).isEqualTo(info.name());
        float v = decoded(file, info, Integer.parseInt(m.group(2)));
        assertThat(Float.isFinite(v)).as("%s: element %s is %s", info, m.group(2), v).isFalse();
    }

    private static float decoded(byte[] file, TensorInfo info, int i) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long at = 8 + b.getLong(0) + info.begin();
        return switch (info.dtype()) {
            case F32 -> b.getFloat((int) (at + 4L * i));
            case F16 -> Float.float16ToFloat(b.getShort((int) (at + 2L * i)));
            case BF16 -> Float.intBitsToFloat((b.getShort((int) (at + 2L * i)) & 0xFFFF) << 16);
            case F64 -> (float) b.getDouble((int) (at + 8L * i));
            default -> throw new AssertionError("read a " + info.dtype());
        };
    }

    /** What the format (or the loader, for non-finite weights) forbids, each with what its refusal must say. */
    private enum Forbidden {
        SHORT_HEADER_LENGTH("trailing bytes|overlaps|not valid JSON|runs past"),
        HOLE("leaves a hole"),
        TRAILING_BYTES("trailing bytes"),
        NOT_UTF8("not UTF-8 text: byte .* at offset \\d+"),
        NON_FINITE("element \\d+ .* is (NaN|Infinity|-Infinity)");

        final String says;

        Forbidden(String says) {
            this.says = says;
        }

        byte[] apply(byte[] original, int headerEnd, SplittableRandom rng) {
            return switch (this) {
                case SHORT_HEADER_LENGTH -> { // the cut falls in the padding spaces: still valid JSON
                    byte[] b = original.clone();
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerEnd - 8 - 1 - rng.nextInt(7));
                    yield b;
                }
                case HOLE -> { // bytes inserted between two tensors
                    int at = headerEnd + 80; // after transformer.wte.weight
                    int n = 1 + rng.nextInt(16);
                    String h = new String(original, 8, headerEnd - 8, StandardCharsets.UTF_8).strip();
                    h = h.replace("[80,128]", "[" + (80 + n) + "," + (128 + n) + "]").replace("[128,132]", "[" + (128 + n) + "," + (132 + n) + "]")
                            .replace("[132,132]", "[" + (132 + n) + "," + (132 + n) + "]");
                    byte[] data = new byte[original.length - headerEnd + n];
                    System.arraycopy(original, headerEnd, data, 0, 80);
                    System.arraycopy(original, at, data, 80 + n, original.length - at);
                    yield SafeTensorsTest.file(h, data);
                }
                case TRAILING_BYTES -> {
                    byte[] b = Arrays.copyOf(original, original.length + 1 + rng.nextInt(64));
                    for (int i = original.length; i < b.length; i++) {
                        b[i] = (byte) rng.nextInt(256);
                    }
                    yield b;
                }
                case NOT_UTF8 -> { // an invalid byte in a tensor name or in the padding
                    byte[] b = original.clone();
                    int at = rng.nextBoolean() ? 8 + new String(original, 8, headerEnd - 8, StandardCharsets.ISO_8859_1).indexOf("wte") : headerEnd - 1;
                    b[at] = (byte) (0x80 + rng.nextInt(0x40)); // a continuation byte with no lead byte
                    yield b;
                }
                case NON_FINITE -> {
                    byte[] b = original.clone();
                    int elem = rng.nextInt(33); // an F32 element of the three non-empty tensors
                    float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7F80_0001)};
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(headerEnd + 4 * elem, bad[rng.nextInt(bad.length)]);
                    yield b;
                }
            };
        }
    }

    /** A load is only correct if every value is exactly what the file's bytes say. */
    private static void assertDecodedFrom(byte[] file, TensorInfo info, float[] got) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long at = 8 + b.getLong(0) + info.begin();
        for (int i = 0; i < got.length; i++) {
            float want = switch (info.dtype()) {
                case F32 -> b.getFloat((int) (at + 4L * i));
                case F16 -> Float.float16ToFloat(b.getShort((int) (at + 2L * i)));
                case BF16 -> Float.intBitsToFloat((b.getShort((int) (at + 2L * i)) & 0xFFFF) << 16);
                case F64 -> (float) b.getDouble((int) (at + 8L * i));
                default -> throw new AssertionError("read a " + info.dtype());
            };
            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i]) && !(Float.isNaN(want) && Float.isNaN(got[i]))) {
                throw new AssertionError(info + ": element " + i + " is " + got[i] + " but the file holds " + want);
            }
        }
    }

    private static byte[] mutate(byte[] original, int headerEnd, SplittableRandom rng) {
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
            case 5 -> { // replace a header token with something hostile
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
            case 7 -> { // data bytes only: must still load
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

    private static String preview(byte[] b) {
        return new String(b, 0, Math.min(b.length, 400), StandardCharsets.ISO_8859_1);
    }
}
