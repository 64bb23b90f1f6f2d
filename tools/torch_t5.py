#!/usr/bin/env python3
"""Reference PyTorch T5 for colo4j's parity test (model-zoo/src/test/resources/t5-ref).

A plain-torch transcription of HF transformers' T5ForConditionalGeneration (modeling_t5.py, T5 v1.0:
ReLU feed-forward, RMS layer norm without bias, unscaled attention, relative position buckets computed
in block 0 of each stack, causal decoder, LM head tied to `shared` with the d_model**-0.5 rescale,
_shift_right, HF's _init_weights), so no transformers install is needed. The cross-attention keeps HF's
separate k and v; colo4j's model fuses them into key_value and converts on load. It writes:

  <out>/model/config.json + model.safetensors  HF names, with the tied copies encoder.embed_tokens.weight,
                                               decoder.embed_tokens.weight and lm_head.weight included
  <out>/batch.txt     "input_ids", "attention_mask" (B x Te) and "labels" (B x Td, -100 = ignored) lines
  <out>/buckets.txt   "<bidirectional> <num_buckets> <max_distance> <relative_position> <bucket>" lines
  <out>/expected.txt  "grad_norm <name> <norm>" for the first forward/backward, then
                      "step <i> loss <loss>" for 3 steps of torch.optim.AdamW(lr=1e-4)

Usage: python3 tools/torch_t5.py [--out model-zoo/src/test/resources/t5-ref]  (torch 1.13; CPU; 1 thread)
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_fixtures import perturb, save_model_dir, start_fixture, write_expected, write_rows

CONFIG = dict(model_type="t5", architectures=["T5ForConditionalGeneration"], vocab_size=60, d_model=32, d_kv=8, d_ff=64,
              num_layers=2, num_decoder_layers=2, num_heads=4, relative_attention_num_buckets=8,
              relative_attention_max_distance=20, dropout_rate=0.0, layer_norm_epsilon=1e-6, initializer_factor=1.0,
              feed_forward_proj="relu", n_positions=64, pad_token_id=0, decoder_start_token_id=0, eos_token_id=1,
              is_encoder_decoder=True, tie_word_embeddings=True)


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    """HF T5Attention._relative_position_bucket, verbatim."""
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    relative_position_if_large = max_exact + (
        torch.log(relative_position.float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    relative_position_if_large = torch.min(
        relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1))
    relative_buckets += torch.where(is_small, relative_position, relative_position_if_large)
    return relative_buckets


class LayerNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class Attention(nn.Module):
    def __init__(self, c, is_decoder, has_bias):
        super().__init__()
        self.c = c
        self.is_decoder = is_decoder
        inner = c["num_heads"] * c["d_kv"]
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        self.has_bias = has_bias
        if has_bias:
            self.relative_attention_bias = nn.Embedding(c["relative_attention_num_buckets"], c["num_heads"])

    def compute_bias(self, q_len, k_len):
        context = torch.arange(q_len, dtype=torch.long)[:, None]
        memory = torch.arange(k_len, dtype=torch.long)[None, :]
        buckets = relative_position_bucket(memory - context, bidirectional=not self.is_decoder,
                                           num_buckets=self.c["relative_attention_num_buckets"],
                                           max_distance=self.c["relative_attention_max_distance"])
        return self.relative_attention_bias(buckets).permute([2, 0, 1]).unsqueeze(0)

    def forward(self, x, mask, kv=None, position_bias=None):
        b, t, _ = x.shape
        src = x if kv is None else kv
        h, dk = self.c["num_heads"], self.c["d_kv"]
        shape = lambda s: s.view(b, -1, h, dk).transpose(1, 2)
        q, k, v = shape(self.q(x)), shape(self.k(src)), shape(self.v(src))
        scores = torch.matmul(q, k.transpose(3, 2))
        if position_bias is None:
            if not self.has_bias:
                position_bias = torch.zeros((1, h, t, k.shape[2]), dtype=scores.dtype)
            else:
                position_bias = self.compute_bias(t, k.shape[2])
            if mask is not None:
                position_bias = position_bias + mask
        scores += position_bias
        attn = F.softmax(scores.float(), dim=-1).type_as(scores)
        out = torch.matmul(attn, v).transpose(1, 2).contiguous().view(b, -1, h * dk)
        return self.o(out), position_bias


class SelfLayer(nn.Module):
    def __init__(self, c, is_decoder, has_bias):
        super().__init__()
        self.SelfAttention = Attention(c, is_decoder, has_bias)
        self.layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x, mask, position_bias):
        y, position_bias = self.SelfAttention(self.layer_norm(x), mask, position_bias=position_bias)
        return x + y, position_bias


class CrossLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.EncDecAttention = Attention(c, True, False)
        self.layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x, kv, mask, position_bias):
        y, position_bias = self.EncDecAttention(self.layer_norm(x), mask, kv=kv, position_bias=position_bias)
        return x + y, position_bias


class DenseReluDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)

    def forward(self, x):
        return self.wo(F.relu(self.wi(x)))


class FFLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.DenseReluDense = DenseReluDense(c)
        self.layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class Block(nn.Module):
    def __init__(self, c, is_decoder, has_bias):
        super().__init__()
        self.is_decoder = is_decoder
        layers = [SelfLayer(c, is_decoder, has_bias)]
        if is_decoder:
            layers.append(CrossLayer(c))
        layers.append(FFLayer(c))
        self.layer = nn.ModuleList(layers)


class Stack(nn.Module):
    def __init__(self, c, is_decoder, shared):
        super().__init__()
        self.embed_tokens = shared
        self.is_decoder = is_decoder
        n = c["num_decoder_layers"] if is_decoder else c["num_layers"]
        self.block = nn.ModuleList([Block(c, is_decoder, i == 0) for i in range(n)])
        self.final_layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, ids, mask, enc=None, enc_mask=None):
        b, t = ids.shape
        x = self.embed_tokens(ids)
        if mask is None:
            mask = torch.ones(b, t)
        ext = mask[:, None, :].float()
        if self.is_decoder:
            causal = torch.tril(torch.ones(t, t))[None, :, :]
            ext = causal * ext
        ext = (1.0 - ext[:, None, :, :]) * torch.finfo(torch.float32).min
        cross = None
        if enc is not None:
            cross = (1.0 - enc_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        position_bias = None
        cross_bias = None
        for blk in self.block:
            x, position_bias = blk.layer[0](x, ext, position_bias)
            if self.is_decoder:
                x, cross_bias = blk.layer[1](x, enc, cross, cross_bias)
            x = blk.layer[-1](x)
        return self.final_layer_norm(x)


class T5(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = Stack(c, False, self.shared)
        self.decoder = Stack(c, True, self.shared)
        self.lm_head = nn.Linear(c["d_model"], c["vocab_size"], bias=False)
        self.apply(self.init_weights)
        self.lm_head.weight = self.shared.weight

    def init_weights(self, m):
        f = self.c["initializer_factor"]
        d, dkv, h, dff = self.c["d_model"], self.c["d_kv"], self.c["num_heads"], self.c["d_ff"]
        if isinstance(m, LayerNorm):
            m.weight.data.fill_(f * 1.0)
        elif isinstance(m, T5):
            m.shared.weight.data.normal_(mean=0.0, std=f * 1.0)
        elif isinstance(m, DenseReluDense):
            m.wi.weight.data.normal_(mean=0.0, std=f * (d ** -0.5))
            m.wo.weight.data.normal_(mean=0.0, std=f * (dff ** -0.5))
        elif isinstance(m, Attention):
            m.q.weight.data.normal_(mean=0.0, std=f * ((d * dkv) ** -0.5))
            m.k.weight.data.normal_(mean=0.0, std=f * (d ** -0.5))
            m.v.weight.data.normal_(mean=0.0, std=f * (d ** -0.5))
            m.o.weight.data.normal_(mean=0.0, std=f * ((h * dkv) ** -0.5))
            if m.has_bias:
                m.relative_attention_bias.weight.data.normal_(mean=0.0, std=f * (d ** -0.5))

    def shift_right(self, labels):
        shifted = labels.new_zeros(labels.shape)
        shifted[..., 1:] = labels[..., :-1].clone()
        shifted[..., 0] = self.c["decoder_start_token_id"]
        return shifted.masked_fill(shifted == -100, self.c["pad_token_id"])

    def forward(self, input_ids, attention_mask, labels):
        enc = self.encoder(input_ids, attention_mask)
        dec = self.decoder(self.shift_right(labels), None, enc, attention_mask)
        logits = self.lm_head(dec * (self.c["d_model"] ** -0.5))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)


def main():
    folder = start_fixture("t5-ref")
    c = CONFIG
    model = T5(c)
    perturb(model, lambda name: "layer_norm" in name)
    save_model_dir(os.path.join(folder, "model"), c, dict(model.state_dict()))

    with open(os.path.join(folder, "buckets.txt"), "w") as f:
        rp = torch.arange(-300, 301)
        for bidirectional in (True, False):
            for nb, md in ((32, 128), (8, 20), (6, 7)):
                out = relative_position_bucket(rp, bidirectional, nb, md)
                for r, bkt in zip(rp.tolist(), out.tolist()):
                    f.write("%d %d %d %d %d\n" % (int(bidirectional), nb, md, r, bkt))

    g = torch.Generator().manual_seed(20261124)
    b, te, td = 3, 12, 9
    input_ids = torch.randint(2, c["vocab_size"], (b, te), generator=g)
    attention_mask = torch.ones(b, te, dtype=torch.long)
    attention_mask[1, 8:] = 0
    attention_mask[2, 10:] = 0
    labels = torch.randint(2, c["vocab_size"], (b, td), generator=g)
    labels[0, 7:] = -100
    labels[2, 5:] = -100
    write_rows(os.path.join(folder, "batch.txt"), (("input_ids", input_ids), ("attention_mask", attention_mask), ("labels", labels)))

    write_expected(os.path.join(folder, "expected.txt"), model, lambda: model(input_ids, attention_mask, labels))
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write("# T5 parity fixtures\n\nGenerated by `tools/torch_t5.py` (torch %s): a plain-torch transcription of HF's\n"
                "T5ForConditionalGeneration (v1.0), 2 + 2 layers, d_model 32, 4 heads of 8, d_ff 64, 8 relative buckets up to\n"
                "distance 20, a 60-id vocabulary, seed 0.\n\n"
                "- `model/`: the weights as an HF model folder (cross-attention k and v separate; the tied copies of `shared`).\n"
                "- `batch.txt`: encoder ids with a padding mask (two rows padded), labels with ignored (-100) tails.\n"
                "- `buckets.txt`: HF's relative position buckets for positions -300..300, both directions, three settings.\n"
                "- `expected.txt`: per-parameter gradient norms of the first loss, and the losses of 3 AdamW steps (lr 1e-4).\n"
                % torch.__version__)


if __name__ == "__main__":
    main()
