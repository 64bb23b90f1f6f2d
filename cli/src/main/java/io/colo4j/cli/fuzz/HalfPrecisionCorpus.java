package io.colo4j.cli.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.fuzz.SafeTensorsMutations;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The tiny GPT-2's weights stored as F16, BF16 or F64 (all converted to float32 as they are read), with values
 * that are not finite once converted: F16 and BF16 infinities and NaNs, F64 values beyond float32's range (1e300
 * overflows to infinity on conversion) or NaN. The plain conversion must load; a poisoned one must be refused
 * naming the file. Random cases put a random bit pattern at a random element: whether it converts to a finite
 * float is computed here, so the expectation is known either way.
 */
final class HalfPrecisionCorpus implements Corpus {
    /** The stored types the reader converts, with their element size. */
    enum Stored {
        F16(2), BF16(2), F64(8);

        final int bytes;

        Stored(int bytes) {
            this.bytes = bytes;
        }

        /** The element's float32 value after the reader's conversion of {@code bits} (low {@code 8 * bytes} bits). */
        float toFloat(long bits) {
            return switch (this) {
                case F16 -> Float.float16ToFloat((short) bits);
                case BF16 -> Float.intBitsToFloat((int) (bits & 0xFFFF) << 16);
                case F64 -> (float) Double.longBitsToDouble(bits);
            };
        }

        long fromFloat(float f) {
            return switch (this) {
                case F16 -> Float.floatToFloat16(f) & 0xFFFFL;
                case BF16 -> (Float.floatToRawIntBits(f) >>> 16) & 0xFFFFL;
                case F64 -> Double.doubleToRawLongBits(f);
            };
        }
    }

    /** A weight no larger than this cannot overflow the tiny model's forward pass. */
    private static final float LARGEST_SAFE_WEIGHT = 1e4f;

    private final FuzzAssets assets;

    HalfPrecisionCorpus(FuzzAssets assets) {
        this.assets = assets;
    }

    /** The assets' F32 weights stored as {@code type}: returns the file and, per tensor, where its data starts and its length. */
    private record Converted(byte[] file, int dataStart, List<long[]> tensors) {}

    private Converted convert(Stored type) {
        byte[] f32 = assets.weights;
        int headerEnd = SafeTensorsMutations.headerEnd(f32);
        ObjectNode header = JsonEdits.parse(new String(f32, 8, headerEnd - 8, StandardCharsets.UTF_8));
        List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
        header.properties().forEach(entries::add);
        entries.sort((a, b) -> Long.compare(a.getValue().path("data_offsets").path(0).asLong(), b.getValue().path("data_offsets").path(0).asLong()));
        ByteBuffer in = ByteBuffer.wrap(f32).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer data = ByteBuffer.allocate((f32.length - headerEnd) / 4 * type.bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<long[]> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : entries) {
            if (!(e.getValue() instanceof ObjectNode t) || !"F32".equals(t.path("dtype").asText())) {
                continue; // __metadata__
            }
            long begin = t.path("data_offsets").path(0).asLong();
            long count = (t.path("data_offsets").path(1).asLong() - begin) / 4;
            long at = data.position();
            for (long i = 0; i < count; i++) {
                long bits = type.fromFloat(in.getFloat((int) (headerEnd + begin + 4 * i)));
                if (type.bytes == 2) {
                    data.putShort((short) bits);
                } else {
                    data.putLong(bits);
                }
            }
            t.put("dtype", type.name());
            t.putArray("data_offsets").add(at).add(data.position());
            if (count > 0) {
                tensors.add(new long[] {at, count});
            }
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + pad + data.position()).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length + pad).put(h);
        for (int i = 0; i < pad; i++) {
            out.put((byte) ' ');
        }
        out.put(data.array(), 0, data.position());
        return new Converted(out.array(), 8 + h.length + pad, tensors);
    }

    /**
     * {@code type}'s file with element {@code index} of tensor {@code tensor} set to {@code bits}: invalid when it converts to
     * a non-finite float, valid when to a weight a model may hold; one so large that the forward pass may overflow
     * (eval then refuses the non-finite loss) may go either way.
     */
    private Case poisoned(String label, Stored type, int tensor, long index, long bits, int tp) {
        float value = type.toFloat(bits);
        Expect expect = !Float.isFinite(value) ? Expect.INVALID : Math.abs(value) <= LARGEST_SAFE_WEIGHT ? Expect.VALID : Expect.EITHER;
        return new Case(type + " " + label + (tp > 1 ? " at tp " + tp : ""), expect, dir -> {
            Converted c = convert(type);
            byte[] b = c.file().clone();
            long[] t = c.tensors().get(Math.floorMod(tensor, c.tensors().size()));
            int at = (int) (c.dataStart() + t[0] + type.bytes * Math.floorMod(index, t[1]));
            ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            if (type.bytes == 2) {
                buf.putShort(at, (short) bits);
            } else {
                buf.putLong(at, bits);
            }
            return eval(dir, b, tp);
        });
    }

    private Case plain(Stored type, int tp) {
        return new Case(type + " as converted" + (tp > 1 ? " at tp " + tp : ""), Expect.VALID, dir -> eval(dir, convert(type).file(), tp));
    }

    private HostileInput.Invocation eval(Path dir, byte[] weights, int tp) throws IOException {
        Path m = assets.model(dir, assets.config, weights);
        // the weights file, or for a loss that overflowed, the folder as a whole
        return HostileInput.Invocation.anyOf(List.of(m.resolve(FuzzAssets.WEIGHTS), m + ": "), "eval", "--model-dir", m, "--tokens", FuzzAssets.tokens(dir), "--tp", tp);
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        for (Stored type : Stored.values()) {
            cases.add(plain(type, 1));
        }
        cases.add(poisoned("+Inf", Stored.F16, 0, 0, 0x7C00, 1));
        cases.add(poisoned("-Inf", Stored.F16, 3, 5, 0xFC00, 1));
        cases.add(poisoned("quiet NaN", Stored.F16, 1, 7, 0x7E00, 2));
        cases.add(poisoned("signalling NaN", Stored.F16, -1, -1, 0x7C01, 1));
        cases.add(poisoned("largest finite 65504", Stored.F16, 2, 3, 0x7BFF, 1));
        cases.add(poisoned("+Inf", Stored.BF16, 0, 1, 0x7F80, 1));
        cases.add(poisoned("NaN", Stored.BF16, 4, 9, 0x7FC1, 2));
        cases.add(poisoned("largest finite", Stored.BF16, 2, 0, 0x7F7F, 1));
        cases.add(poisoned("1e300 (overflows float32)", Stored.F64, 0, 2, Double.doubleToRawLongBits(1e300), 1));
        cases.add(poisoned("-1e39 (just past float32)", Stored.F64, 5, 11, Double.doubleToRawLongBits(-1e39), 1));
        cases.add(poisoned("NaN", Stored.F64, 1, 0, Double.doubleToRawLongBits(Double.NaN), 1));
        cases.add(poisoned("1e-300 (underflows to 0)", Stored.F64, 3, 4, Double.doubleToRawLongBits(1e-300), 1));
        cases.add(poisoned("3.4e38 (float32's largest)", Stored.F64, 2, 2, Double.doubleToRawLongBits(3.4e38), 2));
        for (Stored type : Stored.values()) {
            cases.add(plain(type, 2));
        }
        return cases;
    }

    @Override
    public Case random(SplittableRandom rng) {
        Stored type = Stored.values()[rng.nextInt(Stored.values().length)];
        long bits = switch (type) {
            case F16, BF16 -> rng.nextInt(1 << 16);
            case F64 -> rng.nextBoolean() ? rng.nextLong() : Double.doubleToRawLongBits((rng.nextBoolean() ? 1 : -1) * Math.pow(10, rng.nextInt(-320, 320)));
        };
        String label = String.format(Locale.ROOT, "bits %x", bits);
        return poisoned(label, type, rng.nextInt(64), rng.nextLong(1 << 20), bits, rng.nextInt(4) == 0 ? 2 : 1);
    }
}
