package io.colo4j.tensor.nn;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A node of the model tree, as torch.nn.Module: named parameters, buffers and children, in
 * registration order, giving HuggingFace-style dotted names such as {@code transformer.h.0.mlp.c_fc.weight}.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /**
     * Adds a parameter under {@code name}. While a {@link ParameterFactory} is open (colo's InitContext)
     * a plain {@link Parameter} is replaced by what the factory makes of it (a lazy ColoParameter on the
     * rank's group), which is what this returns: keep the result.
     */
    @SuppressWarnings("unchecked")
    protected final <P extends Parameter> P registerParameter(String name, P parameter) {
        checkName(name);
        ParameterFactory factory = ParameterFactory.current();
        Parameter registered = parameter;
        if (factory != null && parameter.getClass() == Parameter.class) {
            registered = factory.adopt(parameter);
        }
        parameters.put(name, registered);
        return (P) registered;
    }

    /** Non-trainable state saved with the model (none of GPT-2's causal masks: those are recomputed). */
    protected final Tensor registerBuffer(String name, Tensor buffer) {
        checkName(name);
        buffers.put(name, buffer);
        return buffer;
    }

    protected final <M extends Module> M registerModule(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module member name '" + name + "' must be non-empty and contain no '.'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
        }
    }

    /** Every module in the tree with its dotted path; the root has the empty name. */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        out.put(prefix, this);
        children.forEach((name, child) -> child.collectModules(join(prefix, name), out));
    }

    /** Every parameter with its dotted path, each once even if shared (tied) between modules. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        Set<Parameter> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        namedModules().forEach((path, module) -> module.parameters.forEach((name, p) -> {
            if (seen.add(p)) {
                String full = join(path, name);
                p.nameIfUnnamed(full);
                out.put(full, p);
            }
        }));
        return Collections.unmodifiableMap(out);
    }

    public final List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public final Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedModules().forEach((path, module) -> module.buffers.forEach((name, b) -> out.put(join(path, name), b)));
        return Collections.unmodifiableMap(out);
    }

    /** This module's own parameters (not its children's), by local name. */
    public final Map<String, Parameter> localParameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>(namedParameters());
        out.putAll(namedBuffers());
        return out;
    }

    /**
     * Copies values into parameters and buffers by name. With {@code strict}, missing or unexpected
     * names fail before anything is written, so a bad checkpoint never leaves a half-loaded model.
     */
    public final void loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        if (strict) {
            Set<String> missing = new TreeSet<>(own.keySet());
            missing.removeAll(state.keySet());
            Set<String> unexpected = new TreeSet<>(state.keySet());
            unexpected.removeAll(own.keySet());
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IllegalArgumentException("loadStateDict: missing keys " + missing + ", unexpected keys " + unexpected);
            }
        }
        state.forEach((name, value) -> {
            Tensor target = own.get(name);
            if (target != null && !target.sameShape(value)) {
                throw new IllegalArgumentException("loadStateDict: '" + name + "' has shape " + Shapes.format(value.shape())
                        + " but the model expects " + Shapes.format(target.shape()));
            }
        });
        try (GradMode.Guard ignored = GradMode.disabled(); MemoryScope persistent = MemoryScope.persistent()) {
            state.forEach((name, value) -> {
                Tensor target = own.get(name);
                if (target != null) {
                    target.copyFrom(value);
                }
            });
        }
    }

    public final void zeroGrad() {
        parameters().forEach(Tensor::zeroGrad);
    }

    public final long parameterCount() {
        return parameters().stream().mapToLong(Tensor::numel).sum();
    }

    public final Module train(boolean mode) {
        namedModules().values().forEach(m -> m.training = mode);
        return this;
    }

    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }
}
