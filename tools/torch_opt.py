"""Reference OPT in plain PyTorch (HF OPTForCausalLM parameter names, torch Linear [out, in] layout).

Used as the side-by-side anchor for colo4j's io.colo4j.zoo.opt: same config, same tokens, same weights.
  python3 torch_opt.py --layers 2 --hidden 32 --heads 4 --ffn 64 --vocab 96 --pos 32 --save DIR [--bare-names] [--lm-head]
  python3 torch_opt.py ... --post-ln --proj 16 --save DIR      # opt-350m's layout: post-LN, project_in/out
  python3 torch_opt.py --load DIR --tokens toks.txt --steps 3 --grads   # loss + per-parameter grad norms
Semantics follow HF's modeling_opt (do_layer_norm_before, word_embed_proj_dim, learned positions at
position + 2, q scaled by head_dim^-0.5 after q_proj, ReLU, LM head tied to embed_tokens) with no dropout.
--save draws every parameter at random (biases and LayerNorm affines too, so that they are exercised)
from --seed. Needs python3-torch (Debian's 1.13 is fine).
"""
import argparse, sys
import torch, torch.nn as nn, torch.nn.functional as F
from torch_fixtures import add_run_args, load_model_dir, save_model_dir, train_causal_lm

OFFSET = 2


class OPTAttention(nn.Module):
    def __init__(s, d, h, bias):
        super().__init__()
        s.h = h
        s.k_proj = nn.Linear(d, d, bias=bias); s.v_proj = nn.Linear(d, d, bias=bias)
        s.q_proj = nn.Linear(d, d, bias=bias); s.out_proj = nn.Linear(d, d, bias=bias)

    def forward(s, x):
        B, T, D = x.shape
        hd = D // s.h
        q = s.q_proj(x) * hd ** -0.5
        k, v = s.k_proj(x), s.v_proj(x)
        q, k, v = [t.view(B, T, s.h, hd).transpose(1, 2) for t in (q, k, v)]
        a = q @ k.transpose(-1, -2)
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        a = a.masked_fill(~mask, float('-inf')).softmax(-1)
        return s.out_proj((a @ v).transpose(1, 2).reshape(B, T, D))


class OPTDecoderLayer(nn.Module):
    def __init__(s, d, h, ffn, pre, bias):
        super().__init__()
        s.pre = pre
        s.self_attn = OPTAttention(d, h, bias)
        s.self_attn_layer_norm = nn.LayerNorm(d)
        s.fc1 = nn.Linear(d, ffn, bias=bias); s.fc2 = nn.Linear(ffn, d, bias=bias)
        s.final_layer_norm = nn.LayerNorm(d)

    def forward(s, x):
        r = x
        h = s.self_attn(s.self_attn_layer_norm(x) if s.pre else x)
        h = r + h
        if not s.pre: h = s.self_attn_layer_norm(h)
        r = h
        f = s.fc2(F.relu(s.fc1(s.final_layer_norm(h) if s.pre else h)))
        h = r + f
        return h if s.pre else s.final_layer_norm(h)


class OPTDecoder(nn.Module):
    def __init__(s, c):
        super().__init__()
        d, e = c["hidden_size"], c["word_embed_proj_dim"]
        s.embed_tokens = nn.Embedding(c["vocab_size"], e, padding_idx=c["pad_token_id"])
        s.embed_positions = nn.Embedding(c["max_position_embeddings"] + OFFSET, d)
        if e != d:
            s.project_out = nn.Linear(d, e, bias=False); s.project_in = nn.Linear(e, d, bias=False)
        else:
            s.project_out = s.project_in = None
        pre = c["do_layer_norm_before"]
        s.final_layer_norm = nn.LayerNorm(d) if pre and not c.get("_remove_final_layer_norm", False) else None
        s.layers = nn.ModuleList([OPTDecoderLayer(d, c["num_attention_heads"], c["ffn_dim"], pre, c.get("enable_bias", True))
                                  for _ in range(c["num_hidden_layers"])])

    def forward(s, ids):
        T = ids.shape[1]
        x = s.embed_tokens(ids)
        if s.project_in is not None: x = s.project_in(x)
        x = x + s.embed_positions(torch.arange(T) + OFFSET)
        for layer in s.layers: x = layer(x)
        if s.final_layer_norm is not None: x = s.final_layer_norm(x)
        if s.project_out is not None: x = s.project_out(x)
        return x


class OPTForCausalLM(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.model = nn.Module()
        s.model.decoder = OPTDecoder(c)

    def forward(s, ids):
        return s.model.decoder(ids) @ s.model.decoder.embed_tokens.weight.t()  # tied lm_head


def randomize(m):
    for name, p in m.named_parameters():
        with torch.no_grad():
            if "layer_norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif "embed_" in name:
                p.copy_(0.2 * torch.randn_like(p))
            else:
                p.copy_(0.02 * torch.randn_like(p) if name.endswith("bias") else 0.05 * torch.randn_like(p))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", type=int, default=50272); p.add_argument("--pos", type=int, default=2048)
    p.add_argument("--hidden", type=int, default=768); p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12); p.add_argument("--ffn", type=int, default=3072)
    p.add_argument("--proj", type=int, default=0, help="word_embed_proj_dim (default: hidden)")
    p.add_argument("--post-ln", action="store_true", help="do_layer_norm_before false (opt-350m)")
    p.add_argument("--pad", type=int, default=1)
    add_run_args(p)
    p.add_argument("--bare-names", action="store_true", help="with --save: OPTModel keys (decoder.*), no 'model.' prefix")
    p.add_argument("--lm-head", action="store_true", help="with --save: also write the tied lm_head.weight, as torch's state_dict has it")
    a = p.parse_args()
    torch.manual_seed(a.seed); torch.set_num_threads(a.threads)
    if a.load:
        cfg, sd = load_model_dir(a.load)
        cfg.setdefault("word_embed_proj_dim", cfg["hidden_size"]); cfg.setdefault("do_layer_norm_before", True)
        cfg.setdefault("pad_token_id", 1)
        m = OPTForCausalLM(cfg)
        sd.pop("lm_head.weight", None)
        sd = {(k if k.startswith("model.") else "model." + k): v for k, v in sd.items()}
        m.load_state_dict(sd, strict=True)
    else:
        cfg = {"model_type": "opt", "architectures": ["OPTForCausalLM"], "vocab_size": a.vocab, "max_position_embeddings": a.pos,
               "hidden_size": a.hidden, "num_hidden_layers": a.layers, "num_attention_heads": a.heads, "ffn_dim": a.ffn,
               "word_embed_proj_dim": a.proj or a.hidden, "do_layer_norm_before": not a.post_ln, "enable_bias": True,
               "activation_function": "relu", "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
               "init_std": 0.02, "pad_token_id": a.pad, "bos_token_id": 2, "eos_token_id": 2, "tie_word_embeddings": True}
        m = OPTForCausalLM(cfg)
        randomize(m)
    if a.save:
        sd = dict(m.state_dict())
        if a.lm_head: sd["lm_head.weight"] = m.model.decoder.embed_tokens.weight
        if a.bare_names: sd = {(k[len("model."):] if k.startswith("model.") else k): v for k, v in sd.items()}
        save_model_dir(a.save, cfg, sd)
        print("saved", a.save, len(sd), "tensors"); sys.exit(0)
    train_causal_lm(m, cfg["vocab_size"], a, first_id=2)
