package io.colo4j.ops.optim;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

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
 * update is one fused Vector API pass per parameter ({@link AdamWMoments}), split over the kernel threads,
 * run under {@link GradMode#disabled()}.
 */
public final class AdamW extends AbstractAdamW {
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

    /** Weight decay on every parameter except biases and normalisation weights ({@link #decaysByDefault}). */
    public AdamW(Map<String, ? extends Tensor> namedParams, Options options) {
        this(namedParams, options, AdamW::decaysByDefault);
    }

    /** {@code decay} says, by parameter name, which parameters get weight decay. */
    public AdamW(Map<String, ? extends Tensor> namedParams, Options options, Predicate<String> decay) {
        super(options);
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(namedParams));
        try (MemoryScope persistent = MemoryScope.persistent()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                add(new AdamWMoments(e.getKey(), p, decay.test(e.getKey()), 0, p.localNumel(), Tensor.zeros(p.localShape()), Tensor.zeros(p.localShape())));
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

    public Map<String, Tensor> parameters() {
        return params;
    }

    /** Whether weight decay applies to the named parameter. */
    public boolean decays(String name) {
        return moments().stream().anyMatch(m -> m.name.equals(name) && m.decays);
    }

    /** One update of every parameter that has a gradient. */
    @Override
    public void step() {
        requireLayoutsUnchanged();
        try (GradMode.Guard ignored = GradMode.disabled(); MemoryScope persistent = MemoryScope.persistent()) {
            for (AdamWMoments m : moments()) {
                Tensor g = m.param.grad();
                if (g != null) {
                    update(m, g.isContiguous() ? g : g.copy(), 0);
                }
            }
        }
    }

    /** Drops every parameter's gradient. */
    @Override
    public void zeroGrad() {
        params.values().forEach(Tensor::zeroGrad);
    }

    /** The update count of a parameter (torch's per-parameter {@code state['step']}). */
    public long step(String name) {
        Long t = stepCounts().get(name);
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
        for (AdamWMoments m : moments()) {
            out.put(AdamWMoments.expAvgKey(m.name), m.expAvg);
            out.put(AdamWMoments.expAvgSqKey(m.name), m.expAvgSq);
        }
        return out;
    }
}
