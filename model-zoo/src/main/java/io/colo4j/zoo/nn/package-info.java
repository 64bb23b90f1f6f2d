/**
 * Small torch.nn-style layers shared by the zoo's models (torch Linear [out, in], Embedding, LayerNorm,
 * RMSNorm), each declaring its weight layout where a sharding rule needs it, with parameters seeded
 * from the model seed and their dotted names ({@link io.colo4j.zoo.nn.Params}).
 */
package io.colo4j.zoo.nn;
