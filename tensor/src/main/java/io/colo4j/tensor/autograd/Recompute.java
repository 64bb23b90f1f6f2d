package io.colo4j.tensor.autograd;

/**
 * Activation recompute: what a training step keeps from forward for backward. NONE keeps everything; SELECTIVE
 * drops the attention scores and their softmax and recomputes them (Megatron's selective recompute); FULL keeps
 * only each block's input and reruns the block in backward.
 */
public enum Recompute { NONE, SELECTIVE, FULL }
