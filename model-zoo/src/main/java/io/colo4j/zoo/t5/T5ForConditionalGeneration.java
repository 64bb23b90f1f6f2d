package io.colo4j.zoo.t5;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.hf.HfModel;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.ops.nn.Params;

/**
 * HF's T5ForConditionalGeneration (T5 v1.0: ReLU feed-forward, tied head) as plain serial code:
 * {@code shared} [vocab, d_model], {@code encoder} and {@code decoder} ({@link T5Stack}), and logits =
 * (decoder output * d_model^-0.5) shared^T (no lm_head parameter). One deliberate difference from HF,
 * as in FlagAI's T5: the decoder's cross-attention fuses k and v into one {@code key_value}
 * projection ({@link T5CrossAttention}); checkpoints keep HF's separate k and v.
 *
 * <p>Initialisation follows HF's _init_weights with initializer_factor f: shared Normal(0, f), q
 * Normal(0, f (d_model d_kv)^-0.5), k, v, key_value, wi and the relative tables Normal(0, f d_model^-0.5),
 * o Normal(0, f (heads d_kv)^-0.5), wo Normal(0, f d_ff^-0.5), norms 1; each parameter seeded from the
 * model seed and its dotted name. Dropout masks come from the seed, the step ({@link #setStep}) and the site.
 */
public final class T5ForConditionalGeneration extends HfModel<T5Config> {
    private final Embedding shared;
    private final T5Stack encoder;
    private final T5Stack decoder;

    public T5ForConditionalGeneration(T5Config config, long seed) {
        super(config, seed);
        this.shared = registerModule("shared", new Embedding(config().vocabSize(), config().dModel(),
                Params.normal(seed, "shared.weight", config().initializerFactor())));
        this.encoder = registerModule("encoder", new T5Stack(config, "encoder", false, seed));
        this.decoder = registerModule("decoder", new T5Stack(config, "decoder", true, seed));
    }

    public Embedding shared() {
        return shared;
    }

    public T5Stack encoder() {
        return encoder;
    }

    public T5Stack decoder() {
        return decoder;
    }

    /** The encoder output [B, Te, d_model]; {@code mask} [B, Te] (1 = token, 0 = padding) or null. */
    public Tensor encode(IntTensor inputIds, IntTensor mask) {
        return encoder.forward(shared, inputIds, mask, null, null, dropoutSeed());
    }

    /** The decoder output [B, Td, d_model] for decoder inputs attending to {@code encoded}. */
    public Tensor decode(IntTensor decoderInputIds, Tensor encoded, IntTensor encoderMask) {
        return decoder.forward(shared, decoderInputIds, null, encoded, encoderMask, dropoutSeed());
    }

    /** The tied LM head: (hidden * d_model^-0.5) shared^T, [B, Td, vocab]. */
    public Tensor lmHead(Tensor decoderHidden) {
        return F.linear(F.scale(decoderHidden, (float) (1.0 / Math.sqrt(config().dModel()))), shared.weight(), null);
    }

    /** Logits [B, Td, vocab] of the decoder inputs given the encoder inputs (no padding). */
    public Tensor forward(IntTensor inputIds, IntTensor decoderInputIds) {
        return forward(inputIds, null, decoderInputIds);
    }

    public Tensor forward(IntTensor inputIds, IntTensor attentionMask, IntTensor decoderInputIds) {
        return lmHead(decode(decoderInputIds, encode(inputIds, attentionMask), attentionMask));
    }

    /**
     * Mean cross-entropy of predicting {@code labels} [B, Td] (-100 = ignored) with teacher forcing: the
     * decoder reads the labels shifted right behind decoder_start_token_id, as HF does given labels.
     */
    @Override
    public Tensor loss(IntTensor inputIds, IntTensor labels) {
        return loss(inputIds, null, labels);
    }

    public Tensor loss(IntTensor inputIds, IntTensor attentionMask, IntTensor labels) {
        return F.crossEntropyConsuming(forward(inputIds, attentionMask, shiftRight(labels)), labels);
    }

    /** HF's _shift_right: [start, labels[:-1]] per row, -100 replaced by pad_token_id. */
    public IntTensor shiftRight(IntTensor labels) {
        int[] s = labels.shape();
        if (s.length != 2) {
            throw new IllegalArgumentException("t5: labels must be [batch, seq], got " + java.util.Arrays.toString(s));
        }
        int[] out = new int[labels.numel()];
        for (int r = 0; r < s[0]; r++) {
            out[r * s[1]] = config().decoderStartTokenId();
            for (int t = 1; t < s[1]; t++) {
                int v = labels.get(r * s[1] + t - 1);
                out[r * s[1] + t] = v == -100 ? config().padTokenId() : v;
            }
        }
        return IntTensor.of(out, s);
    }

}
