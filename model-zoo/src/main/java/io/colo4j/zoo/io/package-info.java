/**
 * safetensors: a validating, memory-mapping {@link io.colo4j.zoo.io.SafeTensorsReader} (whole tensors or
 * per-rank blocks, F32/F16/BF16/F64 to float32) and an atomic {@link io.colo4j.zoo.io.SafeTensorsWriter};
 * {@link io.colo4j.zoo.io.AtomicFiles} for crash-safe files and folders.
 */
package io.colo4j.zoo.io;
