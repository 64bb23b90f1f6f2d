/**
 * OPT (HF's OPTForCausalLM) as plain serial code with HF parameter names and the torch Linear
 * [out, in] layout: {@link io.colo4j.zoo.opt.OptModel}, its {@link io.colo4j.zoo.opt.OptConfig} (HF
 * config.json, pre- and post-LN, optional project_in/out) and {@link io.colo4j.zoo.opt.OptCheckpoint}
 * (HF model folders). Sharding rules: {@code /io/colo4j/zoo/opt/opt.rules.json}.
 */
package io.colo4j.zoo.opt;
