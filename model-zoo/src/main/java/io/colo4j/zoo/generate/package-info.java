/** Text generation from the causal families: a KV-cached decode loop ({@link io.colo4j.zoo.generate.Generator}) and how the next token is picked ({@link io.colo4j.zoo.generate.Sampling}). */
package io.colo4j.zoo.generate;
