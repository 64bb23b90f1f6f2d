package io.colo4j.ops.dist;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one registry of sharding rules, by op name. Adding a distributed op is one {@link #register}
 * call; an op without a rule still runs correctly through the dispatcher's replicate fallback.
 */
public final class ShardingRegistry {
    private static final Map<String, ShardingRule> RULES = new ConcurrentHashMap<>();

    static {
        register("linear", Rules.linear(io.colo4j.tensor.nn.WeightLayout.OUT_IN));
        register("addmm", Rules.linear(io.colo4j.tensor.nn.WeightLayout.IN_OUT));
        register("matmul", Rules::matmul);
        register("embedding", Rules::embedding);
        register("layer_norm", Rules::layerNorm);
        register("rms_norm", Rules::layerNorm);
        register("repeat_interleave", Rules::linearPointwise);
        register("softmax", Rules::softmax);
        register("causal_softmax", Rules::causalSoftmax);
        register("attention", Rules::attention);
        register("unary", Rules::unary);
        register("scale", Rules::linearPointwise);
        register("add", Rules::additive);
        register("sub", Rules::additive);
        register("mul", Rules::multiplicative);
        register("div", Rules::divide);
        register("sum", Rules::sum);
        register("cross_entropy", Rules::crossEntropy);
    }

    private ShardingRegistry() {}

    public static void register(String op, ShardingRule rule) {
        RULES.put(op, rule);
    }

    public static ShardingRule get(String op) {
        return RULES.get(op);
    }
}
