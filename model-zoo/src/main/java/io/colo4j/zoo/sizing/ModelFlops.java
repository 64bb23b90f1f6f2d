package io.colo4j.zoo.sizing;

import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.t5.T5Config;

/**
 * The model FLOPs of one training step (forward + backward) on one window of {@code seq} tokens, as PaLM's
 * appendix B and Megatron count them: {@code 6N + 12 L H Q T} per token, i.e. 2 FLOPs per multiply-add, the
 * backward pass twice the forward, attention's two T x T products counted in full (no causal halving), and
 * nothing for elementwise work, softmax, cross-entropy or the optimizer. MFU is these FLOPs per second over the
 * machine's peak; work a run does beyond them (recomputation, padding) does not raise it.
 *
 * <p><b>Which N.</b> Every parameter a token's activations pass through: weight matrices, biases and norm gains,
 * and the LM head whether tied or not; never a table that is only looked up (input token embeddings when the
 * head is untied, learned positions, BERT's token types, T5's relative position bias), which costs no FLOPs, nor
 * BERT's pooler, which the masked-LM loss never reaches. For GPT-2 small that is 123.65M (124.44M minus wpe), the
 * N nanoGPT's {@code estimate_mfu} uses. Weight matrices and the attention products are what the GEMMs of a step
 * compute ({@link #gemmFlops()}, checked against a traced step); biases and gains (0.1% at GPT-2 small) are in N
 * only because PaLM's N counts every parameter.
 *
 * <p>Each family's formula is derived from its config record: one {@code case} below per family, which a test
 * holds to a lazily built model's parameters and to the GEMM FLOPs a traced step performs. A window is one
 * sequence for the causal LMs and BERT; T5 splits it (encoder reads the first {@code seq / 2} tokens, the decoder
 * the rest), so its weights are charged for the tokens that pass through each stack, and cross-attention's
 * key/value projection for the encoder's.
 *
 * @param parameters    N (see above)
 * @param weightFlops   6 x (weight-matrix parameters x the tokens they multiply)
 * @param vectorFlops   6 x (bias and gain parameters x tokens)
 * @param attentionFlops 12 x layers x attention width (heads x head size) x queries x keys, per attention
 * @param seq           the window the counts are for (tokens per sequence)
 */
public record ModelFlops(long parameters, long weightFlops, long vectorFlops, long attentionFlops, int seq) {
    public ModelFlops {
        if (seq < 1) {
            throw new IllegalArgumentException("model FLOPs: seq must be >= 1, got " + seq);
        }
    }

    /** FLOPs of one training step on one window of {@code seq} tokens. */
    public long perSequence() {
        return weightFlops + vectorFlops + attentionFlops;
    }

    /** Model FLOPs per token of the window: {@code 6N + 12 L H Q T} for a decoder. */
    public double perToken() {
        return (double) perSequence() / seq;
    }

    /** What the step's matrix products compute: weights and attention, without biases and gains. */
    public long gemmFlops() {
        return weightFlops + attentionFlops;
    }

    /** The model FLOPs of one training step of a [batch, seq] window of {@code config}'s family. */
    public static ModelFlops of(HfConfig config, int seq) {
        Count c = new Count();
        switch (config) {
            case Gpt2Config g -> {
                long d = g.nEmbd();
                // c_attn (fused q, k, v), attn.c_proj, mlp.c_fc, mlp.c_proj; their biases and ln_1, ln_2
                c.weights(g.nLayer() * (3 * d * d + d * d + d * 4 * d + 4 * d * d), seq);
                c.vectors(g.nLayer() * (3 * d + d + 4 * d + d + 2 * 2 * d) + 2 * d, seq);
                c.weights((long) g.vocabSize() * d, seq); // the head (tied to wte)
                c.attention(g.nLayer(), d, seq, seq);
            }
            case OptConfig o -> {
                long d = o.hiddenSize();
                long f = o.ffnDim();
                long e = o.wordEmbedProjDim();
                c.weights(o.numHiddenLayers() * (4 * d * d + 2 * d * f), seq);
                long biases = o.enableBias() ? 4 * d + f + d : 0;
                c.vectors(o.numHiddenLayers() * (biases + 2 * 2 * d) + (o.hasFinalLayerNorm() ? 2 * d : 0), seq);
                c.weights(o.projects() ? 2 * d * e : 0, seq); // project_in, project_out (no bias)
                c.weights((long) o.vocabSize() * e, seq); // the head (tied to embed_tokens)
                c.attention(o.numHiddenLayers(), d, seq, seq);
            }
            case LlamaConfig l -> {
                long d = l.hiddenSize();
                long q = (long) l.numAttentionHeads() * l.headDim();
                long kv = (long) l.numKeyValueHeads() * l.headDim();
                // q, k, v (grouped: kv wide), o; SwiGLU gate, up, down; no biases
                c.weights(l.numHiddenLayers() * (d * q + 2 * d * kv + q * d + 3 * d * l.intermediateSize()), seq);
                c.vectors(l.numHiddenLayers() * 2 * d + d, seq);
                c.weights((long) l.vocabSize() * d, seq); // lm_head (untied: embed_tokens is only looked up)
                c.attention(l.numHiddenLayers(), q, seq, seq);
            }
            case BertConfig b -> {
                long d = b.hiddenSize();
                long f = b.intermediateSize();
                c.weights(b.numHiddenLayers() * (4 * d * d + 2 * d * f), seq);
                c.vectors(2 * d + b.numHiddenLayers() * (4 * d + f + d + 2 * 2 * d), seq); // embeddings LayerNorm, layers
                c.weights(d * d + (long) b.vocabSize() * d, seq); // MLM transform, decoder (tied to word_embeddings)
                c.vectors(d + 2 * d + b.vocabSize(), seq); // its bias and LayerNorm, the decoder's bias
                c.attention(b.numHiddenLayers(), d, seq, seq);
            }
            case T5Config t -> {
                int enc = seq / 2;
                int dec = seq - enc;
                long d = t.dModel();
                long inner = t.innerDim();
                long ffn = 2 * d * t.dFf();
                c.weights(t.numLayers() * (4 * d * inner + ffn), enc);
                c.vectors(t.numLayers() * 2 * d + d, enc);
                // self-attention q, k, v, o and cross-attention q, o on the decoder's tokens; key_value on the encoder's
                c.weights(t.numDecoderLayers() * (4 * d * inner + 2 * d * inner + ffn), dec);
                c.weights(t.numDecoderLayers() * 2 * d * inner, enc);
                c.vectors(t.numDecoderLayers() * 3 * d + d, dec);
                c.weights((long) t.vocabSize() * d, dec); // the head (tied to shared)
                c.attention(t.numLayers(), inner, enc, enc);
                c.attention(t.numDecoderLayers(), inner, dec, dec);
                c.attention(t.numDecoderLayers(), inner, dec, enc);
            }
            default -> throw new IllegalArgumentException("no model FLOPs formula for " + config.getClass().getSimpleName()
                    + " (model_type " + config.format().modelType() + "): add its case to ModelFlops.of");
        }
        return new ModelFlops(c.parameters, c.weightFlops, c.vectorFlops, c.attentionFlops, seq);
    }

    /** Sums as the formulas above add their terms. */
    private static final class Count {
        private long parameters;
        private long weightFlops;
        private long vectorFlops;
        private long attentionFlops;

        /** Weight matrices of {@code params} entries, each multiplying {@code tokens} tokens' activations. */
        void weights(long params, int tokens) {
            parameters += params;
            weightFlops += 6 * params * tokens;
        }

        /** Biases and gains, which PaLM's N counts as if they were weights. */
        void vectors(long params, int tokens) {
            parameters += params;
            vectorFlops += 6 * params * tokens;
        }

        /** {@code layers} attentions of {@code width} = heads x head size: scores Q K^T and their product with V. */
        void attention(long layers, long width, int queries, int keys) {
            attentionFlops += 12 * layers * width * queries * keys;
        }
    }
}
