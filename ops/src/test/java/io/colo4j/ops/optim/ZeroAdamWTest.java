package io.colo4j.ops.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.comm.ThreadWorld;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ZeRO-1/2 against plain data parallelism (AdamW after averaging gradients over dp) on in-JVM ranks: the
 * same parameter bits after several steps, at dp sizes whose chunks divide the parameters and sizes whose
 * last chunk is padded or empty (dp = 3, 4 on a 3-element bias).
 */
class ZeroAdamWTest {
    private static final int[][] SHAPES = {{7, 5}, {16}, {3}, {4, 6}};
    private static final String[] NAMES = {"h.0.mlp.c_fc.weight", "h.0.mlp.c_fc.bias", "ln_f.bias", "lm_head.weight"};

    private static Map<String, Tensor> params(long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < SHAPES.length; i++) {
            float[] v = new float[numel(SHAPES[i])];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) Math.sin(seed * 31 + i * 7 + j * 0.37);
            }
            out.put(NAMES[i], Tensor.of(v, SHAPES[i]));
        }
        return out;
    }

    /** Different on every rank and step, so the dp average matters. */
    private static void setGrads(Map<String, Tensor> params, int rank, int step, float scale) {
        int i = 0;
        for (Tensor p : params.values()) {
            float[] g = new float[numel(p.shape())];
            for (int j = 0; j < g.length; j++) {
                g[j] = scale * (float) Math.cos(rank * 1.7 + step * 0.9 + i * 0.3 + j * 0.11);
            }
            p.setGrad(Tensor.of(g, p.shape()));
            i++;
        }
    }

    /** The same parameters on this dp rank under plain AdamW and under ZeroAdamW. */
    private record Twins(DistContext ctx, Map<String, Tensor> plain, Map<String, Tensor> sharded, AdamW reference, ZeroAdamW zero) {
        static Twins of(Communicator comm, int dp, int stage, AdamW.Options opts, long seed) {
            DistContext ctx = dpContext(comm, dp);
            Map<String, Tensor> plain = params(seed);
            Map<String, Tensor> sharded = params(seed);
            return new Twins(ctx, plain, sharded, new AdamW(plain, opts), new ZeroAdamW(sharded, opts, ctx, stage));
        }
    }

    private static DistContext dpContext(Communicator comm, int dp) {
        try (InitContext ctx = InitContext.open(ProcessGroup.of(1, dp), comm, "cpu")) {
            return ctx.context();
        }
    }

    @ParameterizedTest(name = "stage {0}, dp {1}")
    @CsvSource({"1,1", "1,2", "1,3", "1,4", "2,1", "2,2", "2,3", "2,4"})
    void updatesAndStateMatchPlainDataParallelAdamWBitForBit(int stage, int dp) {
        AdamW.Options opts = new AdamW.Options(1e-2, 0.9, 0.95, 1e-8, 0.1);
        List<String> failures = ThreadWorld.call(dp, comm -> {
            Twins t = Twins.of(comm, dp, stage, opts, 1);
            List<String> bad = new ArrayList<>();
            for (int step = 0; step < 3; step++) {
                setGrads(t.plain(), comm.rank(), step, 1f);
                setGrads(t.sharded(), comm.rank(), step, 1f);
                DataParallel.averageGradients(t.plain().values(), t.ctx());
                double n1 = GradClip.clip(t.plain().values(), 0, d -> d);
                t.zero().reduceGradients();
                double n2 = t.zero().clip(t.sharded().values(), 0, d -> d);
                if (Math.abs(n1 - n2) > 1e-6 * n1) {
                    bad.add("step " + step + ": norm " + n2 + " vs " + n1);
                }
                t.reference().step();
                t.zero().step();
                t.reference().zeroGrad();
                t.zero().zeroGrad();
                for (String name : NAMES) {
                    if (!bitsEqual(t.plain().get(name), t.sharded().get(name))) {
                        bad.add("rank " + comm.rank() + " step " + step + ": " + name + " differs");
                    }
                }
            }
            Map<String, Tensor> want = t.reference().stateTensors();
            Map<String, Tensor> got = t.zero().stateTensors();
            for (String key : want.keySet()) {
                if (!bitsEqual(want.get(key), got.get(key))) {
                    bad.add("state " + key + " differs");
                }
            }
            assertThat(t.zero().stepCounts()).isEqualTo(t.reference().stepCounts());
            long chunkFloats = 0;
            for (int[] s : SHAPES) {
                chunkFloats += Math.ceilDiv(numel(s), dp);
            }
            assertThat(t.zero().stateBytes()).isEqualTo(2 * chunkFloats * Float.BYTES);

            // a fresh optimizer loaded from the gathered state continues exactly as the original
            Map<String, Tensor> copy = new LinkedHashMap<>();
            t.sharded().forEach((k, v) -> copy.put(k, v.copy()));
            ZeroAdamW restored = new ZeroAdamW(copy, opts, t.ctx(), stage);
            restored.loadState(got, t.zero().stepCounts());
            setGrads(t.sharded(), comm.rank(), 9, 1f);
            setGrads(copy, comm.rank(), 9, 1f);
            for (ZeroAdamW z : List.of(t.zero(), restored)) {
                z.reduceGradients();
                z.step();
                z.zeroGrad();
            }
            for (String name : NAMES) {
                if (!bitsEqual(t.sharded().get(name), copy.get(name))) {
                    bad.add("after loadState: " + name + " differs");
                }
            }
            return String.join("; ", bad);
        });
        assertThat(failures).allMatch(String::isEmpty);
    }

    @ParameterizedTest(name = "stage {0}, dp {1}")
    @CsvSource({"1,2", "2,2", "2,3"})
    void clippingScalesByTheGlobalNormOverEveryRanksChunk(int stage, int dp) {
        AdamW.Options opts = new AdamW.Options(1e-2, 0.9, 0.95, 1e-8, 0.0);
        List<String> failures = ThreadWorld.call(dp, comm -> {
            Twins t = Twins.of(comm, dp, stage, opts, 2);
            setGrads(t.plain(), comm.rank(), 0, 5f);
            setGrads(t.sharded(), comm.rank(), 0, 5f);
            DataParallel.averageGradients(t.plain().values(), t.ctx());
            double n1 = GradClip.clip(t.plain().values(), 0.5, d -> d);
            t.zero().reduceGradients();
            double n2 = t.zero().clip(t.sharded().values(), 0.5, d -> d);
            t.reference().step();
            t.zero().step();
            List<String> bad = new ArrayList<>();
            if (!(n1 > 0.5) || Math.abs(n1 - n2) > 1e-6 * n1) {
                bad.add("norm " + n2 + " vs " + n1);
            }
            for (String name : NAMES) {
                float[] a = t.plain().get(name).toFloatArray();
                float[] b = t.sharded().get(name).toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    if (Math.abs(a[i] - b[i]) > 1e-6f) {
                        bad.add(name + "[" + i + "] " + b[i] + " vs " + a[i]);
                        break;
                    }
                }
            }
            return String.join("; ", bad);
        });
        assertThat(failures).allMatch(String::isEmpty);
    }

    @ParameterizedTest(name = "stage {0}")
    @CsvSource({"0", "3"})
    void onlyStagesOneAndTwoExist(int stage) {
        ThreadWorld.run(1, comm -> {
            DistContext ctx = dpContext(comm, 1);
            assertThatThrownBy(() -> new ZeroAdamW(params(1), AdamW.Options.defaults(1e-3), ctx, stage))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ZeRO stage must be 1");
        });
    }

    private static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static boolean bitsEqual(Tensor a, Tensor b) {
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        if (x.length != y.length) {
            return false;
        }
        for (int i = 0; i < x.length; i++) {
            if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                return false;
            }
        }
        return true;
    }
}
