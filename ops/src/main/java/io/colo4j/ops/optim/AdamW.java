package io.colo4j.ops.optim;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * AdamW with torch.optim.AdamW's semantics (decoupled weight decay, bias correction, eps added after
 * the bias-corrected square root, no amsgrad), for a set of named parameters.
 *
 * <p>Per step and parameter p with gradient g (parameters without a gradient are skipped, as torch):
 * <pre>
 *   p  = p * (1 - lr * wd)                 (wd = 0 for names the decay predicate rejects)
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * The moments live in long-lived memory (allocated once, under {@link MemoryScope#persistent()}), the
 * update is one fused Vector API pass per parameter, split over the kernel threads ({@link CpuThreads}),
 * run under {@link GradMode#disabled()}.
 */
public final class AdamW implements Optimizer {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Floats per parallel task (a multiple of every vector length). */
    private static final int CHUNK = 1 << 16;
    private static final Pattern NO_DECAY = Pattern.compile("(^|.*\\.)(bias|[^.]*(ln|norm|LayerNorm)[^.]*\\.weight)$",
            Pattern.CASE_INSENSITIVE);

    /** Hyper-parameters; {@link #defaults(double)} are torch's (betas 0.9/0.999, eps 1e-8, weight decay 0.01). */
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public Options {
            if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("AdamW: invalid options lr=" + lr + " betas=(" + beta1 + ", " + beta2
                        + ") eps=" + eps + " weight_decay=" + weightDecay);
            }
        }

        public static Options defaults(double lr) {
            return new Options(lr, 0.9, 0.999, 1e-8, 0.01);
        }

        public Options withWeightDecay(double wd) {
            return new Options(lr, beta1, beta2, eps, wd);
        }

        public Options withBetas(double b1, double b2) {
            return new Options(lr, b1, b2, eps, weightDecay);
        }
    }

    private final Map<String, Tensor> params;
    private final Map<String, Tensor> expAvg = new LinkedHashMap<>();
    private final Map<String, Tensor> expAvgSq = new LinkedHashMap<>();
    private final Map<String, Long> steps = new LinkedHashMap<>();
    private final Map<String, Boolean> decays = new LinkedHashMap<>();
    private final Options options;
    private double lr;

    /** Weight decay on every parameter except biases and normalisation weights ({@link #decaysByDefault}). */
    public AdamW(Map<String, ? extends Tensor> namedParams, Options options) {
        this(namedParams, options, AdamW::decaysByDefault);
    }

    /** {@code decay} says, by parameter name, which parameters get weight decay. */
    public AdamW(Map<String, ? extends Tensor> namedParams, Options options, Predicate<String> decay) {
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(namedParams));
        this.options = options;
        this.lr = options.lr();
        try (MemoryScope persistent = MemoryScope.persistent()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                int[] shape = e.getValue().shape();
                expAvg.put(e.getKey(), Tensor.zeros(shape));
                expAvgSq.put(e.getKey(), Tensor.zeros(shape));
                steps.put(e.getKey(), 0L);
                decays.put(e.getKey(), decay.test(e.getKey()));
            }
        }
    }

    /**
     * The HF / nanoGPT convention: no decay for biases and LayerNorm-style weights (a last module name
     * containing ln, norm or LayerNorm, e.g. {@code h.0.ln_1.weight}, {@code ln_f.weight}).
     */
    public static boolean decaysByDefault(String name) {
        return !NO_DECAY.matcher(name).matches();
    }

    /** Every parameter decays (torch.optim.AdamW applied to model.parameters()). */
    public static boolean decaysAll(String name) {
        return true;
    }

    public Options options() {
        return options;
    }

    @Override
    public double lr() {
        return lr;
    }

    @Override
    public void setLr(double lr) {
        if (!(lr >= 0)) {
            throw new IllegalArgumentException("AdamW: learning rate must be >= 0, got " + lr);
        }
        this.lr = lr;
    }

    public Map<String, Tensor> parameters() {
        return params;
    }

    /** Whether weight decay applies to the named parameter. */
    public boolean decays(String name) {
        return decays.getOrDefault(name, false);
    }

    /** One update of every parameter that has a gradient. */
    @Override
    public void step() {
        try (GradMode.Guard ignored = GradMode.disabled(); MemoryScope persistent = MemoryScope.persistent()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                Tensor g = p.grad();
                if (g == null) {
                    continue;
                }
                String name = e.getKey();
                long t = steps.merge(name, 1L, Long::sum);
                update(p, g.isContiguous() ? g : g.copy(), expAvg.get(name), expAvgSq.get(name), t,
                        decays.get(name) ? options.weightDecay() : 0.0);
            }
        }
    }

    private void update(Tensor p, Tensor g, Tensor m, Tensor v, long t, double wd) {
        if (!p.isContiguous()) {
            Tensor work = p.copy();
            update(work, g, m, v, t, wd);
            p.copyFrom(work);
            return;
        }
        update(options, lr, p.segment(), p.offset() * Float.BYTES, g.segment(), g.offset() * Float.BYTES,
                m.segment(), m.offset() * Float.BYTES, v.segment(), v.offset() * Float.BYTES, p.numel(), t, wd);
    }

    /**
     * The fused update of {@code n} consecutive floats of p, g, m, v (byte offsets into each segment), as the
     * class comment. Every operation is a correctly rounded IEEE op applied lane by lane (no fused multiply-add),
     * so any split of a tensor into pieces, e.g. {@link ZeroAdamW}'s dp chunks, gives the same bits as one pass.
     */
    static void update(Options options, double lr, MemorySegment ps, long po, MemorySegment gs, long go,
                       MemorySegment ms, long mo, MemorySegment vs, long vo, long n, long t, double wd) {
        double bc1 = 1 - Math.pow(options.beta1(), t);
        double bc2 = 1 - Math.pow(options.beta2(), t);
        float decay = (float) (1 - lr * wd);
        float b1 = (float) options.beta1();
        float b2 = (float) options.beta2();
        float ob1 = (float) (1 - options.beta1());
        float ob2 = (float) (1 - options.beta2());
        float stepSize = (float) (lr / bc1);
        float invBc2Sqrt = (float) (1 / Math.sqrt(bc2));
        float eps = (float) options.eps();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        // Elementwise, so splitting across the kernel threads cannot change a single bit of the result.
        CpuThreads.parallelFor(chunks, 1, (from, to) -> {
            long start = (long) from * CHUNK;
            long end = Math.min(n, (long) to * CHUNK);
            long bound = start + S.loopBound(end - start);
            int lanes = S.length();
            long i = start;
            for (; i < bound; i += lanes) {
                long b = i * Float.BYTES;
                FloatVector pv = FloatVector.fromMemorySegment(S, ps, po + b, ORDER);
                FloatVector gv = FloatVector.fromMemorySegment(S, gs, go + b, ORDER);
                FloatVector mv = FloatVector.fromMemorySegment(S, ms, mo + b, ORDER);
                FloatVector vv = FloatVector.fromMemorySegment(S, vs, vo + b, ORDER);
                pv = pv.mul(decay);
                mv = mv.mul(b1).add(gv.mul(ob1));
                vv = vv.mul(b2).add(gv.mul(gv).mul(ob2));
                FloatVector denom = vv.sqrt().mul(invBc2Sqrt).add(eps);
                pv = pv.sub(mv.mul(stepSize).div(denom));
                pv.intoMemorySegment(ps, po + b, ORDER);
                mv.intoMemorySegment(ms, mo + b, ORDER);
                vv.intoMemorySegment(vs, vo + b, ORDER);
            }
            for (; i < end; i++) {
                long b = i * Float.BYTES;
                float pv = ps.get(ValueLayout.JAVA_FLOAT, po + b);
                float gv = gs.get(ValueLayout.JAVA_FLOAT, go + b);
                float mv = ms.get(ValueLayout.JAVA_FLOAT, mo + b);
                float vv = vs.get(ValueLayout.JAVA_FLOAT, vo + b);
                pv = pv * decay;
                mv = mv * b1 + gv * ob1;
                vv = vv * b2 + gv * gv * ob2;
                float denom = (float) Math.sqrt(vv) * invBc2Sqrt + eps;
                pv = pv - mv * stepSize / denom;
                ps.set(ValueLayout.JAVA_FLOAT, po + b, pv);
                ms.set(ValueLayout.JAVA_FLOAT, mo + b, mv);
                vs.set(ValueLayout.JAVA_FLOAT, vo + b, vv);
            }
        });
    }

    /** Drops every parameter's gradient. */
    @Override
    public void zeroGrad() {
        params.values().forEach(Tensor::zeroGrad);
    }

    /** The update count of a parameter (torch's per-parameter {@code state['step']}). */
    public long step(String name) {
        Long t = steps.get(name);
        if (t == null) {
            throw new IllegalArgumentException("AdamW: no parameter '" + name + "'");
        }
        return t;
    }

    /**
     * The optimizer state as tensors, for checkpoints: {@code <name>.exp_avg} and {@code <name>.exp_avg_sq}
     * (the live tensors, not copies). Per-parameter step counts come from {@link #stepCounts()}.
     */
    @Override
    public Map<String, Tensor> stateTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            out.put(name + ".exp_avg", expAvg.get(name));
            out.put(name + ".exp_avg_sq", expAvgSq.get(name));
        }
        return out;
    }

    @Override
    public Map<String, Long> stepCounts() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(steps));
    }

    /**
     * Throws unless {@code state} holds both moments of every parameter, shaped like it, and {@code stepCounts} its
     * update count: what any AdamW (sharded or not) checks before changing anything in {@code loadState}.
     */
    static void checkState(Map<String, ? extends Tensor> params, Map<String, ? extends Tensor> state, Map<String, Long> stepCounts) {
        for (Map.Entry<String, ? extends Tensor> e : params.entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue().shape();
            for (String key : new String[] {name + ".exp_avg", name + ".exp_avg_sq"}) {
                Tensor t = state.get(key);
                if (t == null) {
                    throw new IllegalArgumentException("AdamW state: missing '" + key + "'");
                }
                if (!Arrays.equals(t.shape(), shape)) {
                    throw new IllegalArgumentException("AdamW state: '" + key + "' has shape " + Arrays.toString(t.shape())
                            + " but the parameter is " + Arrays.toString(shape));
                }
            }
            if (!stepCounts.containsKey(name)) {
                throw new IllegalArgumentException("AdamW state: no step count for '" + name + "'");
            }
        }
    }

    @Override
    public long stateBytes() {
        long floats = 0;
        for (String name : params.keySet()) {
            floats += expAvg.get(name).numel() + expAvgSq.get(name).numel();
        }
        return floats * Float.BYTES;
    }

    /**
     * Restores what {@link #stateTensors()} and {@link #stepCounts()} returned. Every tensor must be
     * present with the right shape; nothing is changed unless all are.
     */
    @Override
    public void loadState(Map<String, ? extends Tensor> state, Map<String, Long> stepCounts) {
        checkState(params, state, stepCounts);
        try (GradMode.Guard ignored = GradMode.disabled()) {
            for (String name : params.keySet()) {
                expAvg.get(name).copyFrom(state.get(name + ".exp_avg"));
                expAvgSq.get(name).copyFrom(state.get(name + ".exp_avg_sq"));
                steps.put(name, stepCounts.get(name));
            }
        }
    }
}
