/**
 * The layers a model is made of, beside {@link io.colo4j.tensor.nn.Module}: {@link io.colo4j.ops.nn.Linear}
 * (torch's [out, in] or HF Conv1D's [in, out] weight), {@link io.colo4j.ops.nn.Embedding},
 * {@link io.colo4j.ops.nn.LayerNorm}, {@link io.colo4j.ops.nn.RmsNorm} and {@link io.colo4j.ops.nn.Dropout}, each
 * declaring what a sharding rule needs (weight layout, norm marker). Parameters are made by {@link io.colo4j.ops.nn.Params}:
 * lazy inside an InitContext (a rank materialises only its shard), seeded from a model seed and the parameter's
 * dotted name where a layer is built from a path; dropout masks by {@link io.colo4j.ops.nn.DropoutSeeds}.
 */
package io.colo4j.ops.nn;
