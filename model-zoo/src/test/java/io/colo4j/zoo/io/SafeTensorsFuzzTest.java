package io.colo4j.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.fuzz.SafeTensorsMutations;
import io.colo4j.zoo.fuzz.SafeTensorsMutations.Forbidden;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
        int headerEnd = SafeTensorsMutations.headerEnd(original);
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
            byte[] mutated = rule != null ? rule.apply(original, headerEnd, rng) : SafeTensorsMutations.mutate(original, headerEnd, rng);
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

    private static String preview(byte[] b) {
        return new String(b, 0, Math.min(b.length, 400), StandardCharsets.ISO_8859_1);
    }
}
