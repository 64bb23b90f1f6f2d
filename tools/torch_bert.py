#!/usr/bin/env python3
"""Reference PyTorch BERT for colo4j's parity test (model-zoo/src/test/resources/bert-ref).

A plain-torch transcription of HF transformers' BertForMaskedLM (modeling_bert.py: post-LN layers,
exact erf GELU, additive finfo.min padding mask, MLM decoder tied to word_embeddings with its bias tied
to cls.predictions.bias, HF's _init_weights), so no transformers install is needed. It writes:

  <out>/model/config.json + model.safetensors  HF names, with the tied cls.predictions.decoder.{weight,bias}
                                               and the int64 bert.embeddings.position_ids buffer included,
                                               as HF's older exports have them
  <out>/batch.txt      "ids", "types", "mask", "labels" lines (B x T, row-major, whitespace-separated)
  <out>/expected.txt   "grad_norm <name> <norm>" for the first forward/backward (MLM loss), then
                       "step <i> loss <loss>" for 3 steps of torch.optim.AdamW(lr=1e-4)
  <out>/README.md

Usage: python3 tools/torch_bert.py [--out model-zoo/src/test/resources/bert-ref]  (torch 1.13; CPU; 1 thread)
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_fixtures import perturb, save_model_dir, start_fixture, write_expected, write_rows

CONFIG = dict(model_type="bert", architectures=["BertForMaskedLM"], vocab_size=50, hidden_size=32, num_hidden_layers=2,
              num_attention_heads=4, intermediate_size=64, hidden_act="gelu", hidden_dropout_prob=0.0,
              attention_probs_dropout_prob=0.0, max_position_embeddings=16, type_vocab_size=2, initializer_range=0.05,
              layer_norm_eps=1e-12, pad_token_id=0, mask_token_id=49, add_pooling_layer=True,
              position_embedding_type="absolute", tie_word_embeddings=True)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).expand((1, -1)))

    def forward(self, ids, types):
        t = ids.shape[1]
        x = self.word_embeddings(ids) + self.token_type_embeddings(types)
        x = x + self.position_embeddings(self.position_ids[:, :t])
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.h = c["num_attention_heads"]
        self.hd = d // self.h
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.hd).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        ctx = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class Output(nn.Module):
    def __init__(self, c, inner):
        super().__init__()
        self.dense = nn.Linear(inner, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = Output(c, c["hidden_size"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = Output(c, c["intermediate_size"])

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, ids, types, mask):
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        x = self.embeddings(ids, types)
        for layer in self.encoder.layer:
            x = layer(x, ext)
        return x


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = Transform(c)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.decoder.bias = self.bias

    def forward(self, x):
        return self.decoder(self.transform(x))


class Cls(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = Predictions(c)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c)
        self.cls = Cls(c)
        self.apply(lambda m: init_weights(m, c))
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, ids, types, mask, labels):
        logits = self.cls.predictions(self.bert(ids, types, mask))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)


def init_weights(m, c):
    std = c["initializer_range"]
    if isinstance(m, nn.Linear):
        m.weight.data.normal_(0.0, std)
        if m.bias is not None:
            m.bias.data.zero_()
    elif isinstance(m, nn.Embedding):
        m.weight.data.normal_(0.0, std)
        if m.padding_idx is not None:
            m.weight.data[m.padding_idx].zero_()
    elif isinstance(m, nn.LayerNorm):
        m.bias.data.zero_()
        m.weight.data.fill_(1.0)


def main():
    folder = start_fixture("bert-ref")
    c = CONFIG
    model = BertForMaskedLM(c)
    # perturb the zero-initialised biases and LayerNorms so that their gradients and values are exercised
    perturb(model, lambda name: name.endswith("bias") or "LayerNorm" in name)
    # the state includes the tied decoder weight/bias and the position_ids buffer
    save_model_dir(os.path.join(folder, "model"), c, dict(model.state_dict()))

    g = torch.Generator().manual_seed(20261124)
    b, t = 3, 12
    ids = torch.randint(1, c["vocab_size"] - 1, (b, t), generator=g)
    types = (torch.arange(t)[None, :] >= torch.tensor([[6], [4], [8]])).long()
    mask = torch.ones(b, t, dtype=torch.long)
    mask[1, 9:] = 0
    mask[2, 10:] = 0
    labels = torch.full((b, t), -100, dtype=torch.long)
    chosen = torch.rand(b, t, generator=g) < 0.3
    chosen[:, 1] = True
    chosen &= mask.bool()
    labels[chosen] = ids[chosen]
    ids = ids.masked_fill(chosen & (torch.rand(b, t, generator=g) < 0.8), c["mask_token_id"])
    write_rows(os.path.join(folder, "batch.txt"), (("ids", ids), ("types", types), ("mask", mask), ("labels", labels)))

    write_expected(os.path.join(folder, "expected.txt"), model, lambda: model(ids, types, mask, labels))
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write("# BERT parity fixtures\n\nGenerated by `tools/torch_bert.py` (torch %s): a plain-torch transcription of HF's\n"
                "BertForMaskedLM, 2 layers, 32 wide, 4 heads, intermediate 64, exact GELU, a 50-id vocabulary, seed 0.\n\n"
                "- `model/`: the weights as an HF model folder (with the tied decoder and the position_ids buffer).\n"
                "- `batch.txt`: ids (some replaced by mask_token_id 49), token types, attention mask (two rows padded), labels.\n"
                "- `expected.txt`: the MLM loss's per-parameter gradient norms, and the losses of 3 AdamW steps (lr 1e-4).\n"
                % torch.__version__)


if __name__ == "__main__":
    main()
