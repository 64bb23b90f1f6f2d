package io.colo4j.ops.dist;

import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * The built-in ops the dispatcher knows, each declared once with its strategy generator. An op with
 * no constant here can still be dispatched: {@code new Op(label, StrategyGenerator.NONE)} runs on
 * replicated inputs. The third argument, where given, says the op's backward never reads its output ({@link Op}).
 */
public final class Ops {
    public static final Op LINEAR = new Op("linear", Contractions.linear(WeightLayout.OUT_IN), false);
    public static final Op ADDMM = new Op("addmm", Contractions.linear(WeightLayout.IN_OUT), false);
    public static final Op MATMUL = new Op("matmul", Contractions::matmul, false);
    public static final Op EMBEDDING = new Op("embedding", VocabParallelStrategies::embedding, false);
    public static final Op CROSS_ENTROPY = new Op("cross_entropy", VocabParallelStrategies::crossEntropy);
    public static final Op LAYER_NORM = new Op("layer_norm", RowStrategies::lastDim);
    public static final Op RMS_NORM = new Op("rms_norm", RowStrategies::lastDim);
    public static final Op SOFTMAX = new Op("softmax", RowStrategies::lastDim);
    public static final Op CAUSAL_SOFTMAX = new Op("causal_softmax", RowStrategies::causalLastTwoDims);
    public static final Op ATTENTION = new Op("attention", AttentionStrategies::candidates);
    /** Every {@code UnaryOp} kernel: adding an activation adds no op here. */
    public static final Op UNARY = new Op("unary", PointwiseStrategies::unary);
    /** op(x + bias) fused ({@code F.biasGelu}): a broadcasting add's layouts, and no partial sum passes (op is nonlinear). */
    public static final Op BIAS_UNARY = new Op("bias_unary", PointwiseStrategies::elementwise);
    public static final Op DROPOUT = new Op("dropout", DropoutStrategies::dropout);
    public static final Op BIAS_DROPOUT_ADD = new Op("bias_dropout_add", DropoutStrategies::biasDropoutAdd);
    public static final Op SCALE = new Op("scale", PointwiseStrategies::linear);
    public static final Op REPEAT_INTERLEAVE = new Op("repeat_interleave", PointwiseStrategies::linear);
    public static final Op ADD = new Op("add", PointwiseStrategies::add);
    public static final Op SUB = new Op("sub", PointwiseStrategies::add);
    public static final Op MUL = new Op("mul", PointwiseStrategies::multiply);
    public static final Op DIV = new Op("div", PointwiseStrategies::divide);
    public static final Op SUM = new Op("sum", PointwiseStrategies::sum, false);

    private Ops() {}

    public static Op binary(BinaryOp op) {
        return switch (op) {
            case ADD -> ADD;
            case SUB -> SUB;
            case MUL -> MUL;
            case DIV -> DIV;
        };
    }

    public static Op linear(WeightLayout layout) {
        return layout == WeightLayout.OUT_IN ? LINEAR : ADDMM;
    }
}
