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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of mutated and truncated copies of a valid file: every one must either load (every tensor
 * read completely) or fail with a {@link SafeTensorsException}; any other exception or error fails.
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
        for (int c = 0; c < CASES; c++) {
            byte[] mutated = mutate(original, headerEnd, rng);
            Files.write(p, mutated);
            try (MemoryScope scope = MemoryScope.open(); SafeTensorsReader r = SafeTensorsReader.open(p)) {
                for (String name : r.names()) {
                    TensorInfo info = r.info(name);
                    try {
                        Tensor t = r.read(name);
                        assertThat(t.numel()).isEqualTo(info.numel());
                        assertDecodedFrom(mutated, info, t.toFloatArray());
                    } catch (SafeTensorsException e) {
                        // only a dtype that does not convert may refuse a read after a successful open
                        assertThat(info.dtype().convertsToFloat()).as("read of %s failed: %s", name, e.getMessage()).isFalse();
                    }
                }
                loaded++;
            } catch (SafeTensorsException e) {
                assertThat(e.getMessage()).contains(p.toString());
                rejected++;
            } catch (Throwable t) {
                fail("case " + c + ": " + t + " for file bytes " + preview(mutated), t);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("safetensors fuzz: %d cases in %.1f s, %d loaded, %d rejected cleanly%n", CASES, seconds, loaded, rejected);
        assertThat(loaded).isPositive();
        assertThat(rejected).isPositive();
        assertThat(seconds).as("fuzzing took %.1f s", seconds).isLessThan(30);
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
