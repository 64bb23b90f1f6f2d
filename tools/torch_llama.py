"""Reference Llama in plain PyTorch (HF LlamaForCausalLM parameter names, torch Linear [out, in] layout).

Used as the side-by-side anchor for colo4j's io.colo4j.zoo.llama: same config, same tokens, same weights.
  python3 torch_llama.py --layers 2 --hidden 32 --heads 4 --kv-heads 2 --inter 64 --vocab 96 --pos 64 --save DIR [--inv-freq]
  python3 torch_llama.py --load DIR --tokens toks.txt --steps 3 --grads   # loss + per-parameter grad norms
Semantics follow HF's modeling_llama: RMSNorm (x * rsqrt(mean(x^2) + eps) * weight), rotary embeddings
with rotate_half and inv_freq = 1 / rope_theta^(2i/head_dim), grouped-query attention (repeat_kv),
SwiGLU MLP, no biases, untied lm_head. --save draws every parameter at random (RMSNorm weights too)
from --seed; --inv-freq also writes the rotary_emb.inv_freq buffers older transformers saved.
Needs python3-torch (Debian's 1.13 is fine).
"""
import argparse, math, sys
import torch, torch.nn as nn, torch.nn.functional as F
from torch_fixtures import add_run_args, load_model_dir, save_model_dir, train_causal_lm


class LlamaRMSNorm(nn.Module):
    def __init__(s, d, eps):
        super().__init__(); s.weight = nn.Parameter(torch.ones(d)); s.eps = eps

    def forward(s, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s.eps) * s.weight


def rotary(T, hd, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))
    freqs = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin(), inv_freq


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class LlamaAttention(nn.Module):
    def __init__(s, c):
        super().__init__()
        d, s.h, s.kvh, s.hd = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        s.q_proj = nn.Linear(d, s.h * s.hd, bias=False); s.k_proj = nn.Linear(d, s.kvh * s.hd, bias=False)
        s.v_proj = nn.Linear(d, s.kvh * s.hd, bias=False); s.o_proj = nn.Linear(s.h * s.hd, d, bias=False)

    def forward(s, x, cos, sin):
        B, T, _ = x.shape
        q = s.q_proj(x).view(B, T, s.h, s.hd).transpose(1, 2)
        k = s.k_proj(x).view(B, T, s.kvh, s.hd).transpose(1, 2)
        v = s.v_proj(x).view(B, T, s.kvh, s.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.repeat_interleave(k, s.h // s.kvh, dim=1)  # HF repeat_kv
        v = torch.repeat_interleave(v, s.h // s.kvh, dim=1)
        a = (q @ k.transpose(-1, -2)) / math.sqrt(s.hd)
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        a = a.masked_fill(~mask, float('-inf')).softmax(-1)
        return s.o_proj((a @ v).transpose(1, 2).reshape(B, T, s.h * s.hd))


class LlamaMLP(nn.Module):
    def __init__(s, d, i):
        super().__init__()
        s.gate_proj = nn.Linear(d, i, bias=False); s.up_proj = nn.Linear(d, i, bias=False); s.down_proj = nn.Linear(i, d, bias=False)

    def forward(s, x):
        return s.down_proj(F.silu(s.gate_proj(x)) * s.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.self_attn = LlamaAttention(c); s.mlp = LlamaMLP(c["hidden_size"], c["intermediate_size"])
        s.input_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        s.post_attention_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(s, x, cos, sin):
        x = x + s.self_attn(s.input_layernorm(x), cos, sin)
        return x + s.mlp(s.post_attention_layernorm(x))


class LlamaForCausalLM(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.c = c
        s.model = nn.Module()
        s.model.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        s.model.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        s.model.norm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        s.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(s, ids):
        T = ids.shape[1]
        cos, sin, _ = rotary(T, s.c["head_dim"], s.c["rope_theta"])
        x = s.model.embed_tokens(ids)
        for layer in s.model.layers: x = layer(x, cos, sin)
        return s.lm_head(s.model.norm(x))


def randomize(m):
    for name, p in m.named_parameters():
        with torch.no_grad():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.05 * torch.randn_like(p))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", type=int, default=32000); p.add_argument("--pos", type=int, default=2048)
    p.add_argument("--hidden", type=int, default=4096); p.add_argument("--inter", type=int, default=11008)
    p.add_argument("--layers", type=int, default=32); p.add_argument("--heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=0, help="num_key_value_heads (default: heads)")
    p.add_argument("--rope-theta", type=float, default=10000.0); p.add_argument("--eps", type=float, default=1e-6)
    add_run_args(p)
    p.add_argument("--inv-freq", action="store_true", help="with --save: also write model.layers.N.self_attn.rotary_emb.inv_freq")
    a = p.parse_args()
    torch.manual_seed(a.seed); torch.set_num_threads(a.threads)
    if a.load:
        cfg, sd = load_model_dir(a.load)
        cfg.setdefault("num_key_value_heads", cfg["num_attention_heads"])
        cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
        cfg.setdefault("rope_theta", 10000.0); cfg.setdefault("rms_norm_eps", 1e-6)
        m = LlamaForCausalLM(cfg)
        sd = {k: v for k, v in sd.items() if not k.endswith("rotary_emb.inv_freq")}
        m.load_state_dict(sd, strict=True)
    else:
        cfg = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": a.vocab, "max_position_embeddings": a.pos,
               "hidden_size": a.hidden, "intermediate_size": a.inter, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
               "num_key_value_heads": a.kv_heads or a.heads, "head_dim": a.hidden // a.heads, "hidden_act": "silu",
               "rms_norm_eps": a.eps, "rope_theta": a.rope_theta, "rope_scaling": None, "attention_bias": False,
               "attention_dropout": 0.0, "initializer_range": 0.02, "tie_word_embeddings": False}
        m = LlamaForCausalLM(cfg)
        randomize(m)
    if a.save:
        sd = dict(m.state_dict())
        if a.inv_freq:
            inv = rotary(1, cfg["head_dim"], cfg["rope_theta"])[2]
            for i in range(cfg["num_hidden_layers"]): sd["model.layers.%d.self_attn.rotary_emb.inv_freq" % i] = inv
        save_model_dir(a.save, cfg, sd)
        print("saved", a.save, len(sd), "tensors"); sys.exit(0)
    train_causal_lm(m, cfg["vocab_size"], a)
