package io.colo4j.tensor.nn;

/**
 * Marks a module that normalises its input over the features (LayerNorm, RMSNorm). Its 1-d parameters (gain, bias)
 * each scale or shift one whole feature of an activation the norm needs whole, so sharding rules refuse to split them
 * column or vocab: a structural fact about the model, declared where the module is written.
 */
public interface Normalization {}
