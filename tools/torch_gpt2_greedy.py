#!/usr/bin/env python3
"""Greedy continuation with the reference PyTorch GPT-2 (../shared/reference/torch_gpt2.py), for generate's parity.

Reads an HF GPT-2 folder (either key style) and a prompts file (whitespace-separated ids, one prompt per line) and
prints, per prompt, one line of the --max-new-tokens ids a full-recompute argmax loop picks: the format of
`colo4j generate --greedy --tokens FILE`, so the two outputs compare with diff. Needs python3-torch (1.13).

  python3 tools/torch_gpt2_greedy.py --load model-zoo/src/test/resources/gpt2-ref/hub --tokens prompts.txt --max-new-tokens 8
"""
import argparse, importlib.util, json, os, sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
ref = os.environ.get("TORCH_GPT2", os.path.join(here, "..", "..", "shared", "reference", "torch_gpt2.py"))
spec = importlib.util.spec_from_file_location("torch_gpt2", ref)
gpt2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpt2)

p = argparse.ArgumentParser()
p.add_argument("--load", required=True)
p.add_argument("--tokens", required=True)
p.add_argument("--max-new-tokens", type=int, required=True)
a = p.parse_args()
torch.set_num_threads(1)
cfg = json.load(open(os.path.join(a.load, "config.json")))
m = gpt2.GPT2(cfg["vocab_size"], cfg["n_positions"], cfg["n_embd"], cfg["n_layer"], cfg["n_head"])
state = gpt2.load_safetensors(os.path.join(a.load, "model.safetensors"))
state = {(k if k.startswith("transformer.") else "transformer." + k): v for k, v in state.items()
         if not k.endswith(".attn.bias") and not k.endswith("masked_bias")}
state.pop("transformer.lm_head.weight", None)
m.load_state_dict(state, strict=True)
m.eval()
with torch.no_grad():
    for line in open(a.tokens):
        if not line.strip():
            continue
        ids = [int(x) for x in line.split()]
        new = []
        for _ in range(a.max_new_tokens):
            logits = m(torch.tensor([ids + new]))[0, -1]
            new.append(int(torch.argmax(logits)))
        print(" ".join(map(str, new)))
sys.stdout.flush()
