package io.colo4j.zoo.sizing;

import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The layer stacks of a model: its outermost {@link ModuleList}s (GPT-2's {@code transformer.h}, T5's
 * {@code encoder.block} and {@code decoder.block}; a list inside a layer, such as T5's
 * {@code block.0.layer}, is part of that layer). A module path under a stack reads as (stack, layer
 * index, rest), which is how a proxy's layers stand for the model's.
 */
public final class LayerStacks {
    /** Where a module path lies in a stack: {@code transformer.h.17.attn.c_proj} is (transformer.h, 17, attn.c_proj). */
    public record Location(String stack, int index, String rest) {
        /** The path of the same module in layer {@code other} of the stack. */
        public String inLayer(int other) {
            return stack + "." + other + (rest.isEmpty() ? "" : "." + rest);
        }
    }

    private final Map<String, Integer> layers;

    private LayerStacks(Map<String, Integer> layers) {
        this.layers = Collections.unmodifiableMap(layers);
    }

    public static LayerStacks of(Module model) {
        Map<String, Integer> layers = new LinkedHashMap<>();
        model.namedModules().forEach((path, module) -> {
            if (module instanceof ModuleList<?> list && layers.keySet().stream().noneMatch(s -> path.startsWith(s + "."))) {
                layers.put(path, list.size());
            }
        });
        return new LayerStacks(layers);
    }

    /** Stack path to its number of layers, in the model's module order. */
    public Map<String, Integer> layers() {
        return layers;
    }

    /** The stack, layer and rest of {@code path} (a module or a parameter path); empty outside every stack. */
    public Optional<Location> locate(String path) {
        for (String stack : layers.keySet()) {
            if (!stack.isEmpty() && path.startsWith(stack + ".")) {
                String after = path.substring(stack.length() + 1);
                int dot = after.indexOf('.');
                String index = dot < 0 ? after : after.substring(0, dot);
                if (!index.isEmpty() && index.chars().allMatch(Character::isDigit)) {
                    return Optional.of(new Location(stack, Integer.parseInt(index), dot < 0 ? "" : after.substring(dot + 1)));
                }
            }
        }
        return Optional.empty();
    }
}
