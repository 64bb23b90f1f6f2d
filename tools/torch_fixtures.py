"""What every reference PyTorch script in tools/ shares: safetensors I/O, HF model folders, and the AdamW
runs whose per-parameter gradient norms and losses the parity tests read back.

Imported by torch_llama.py, torch_opt.py, torch_bert.py and torch_t5.py (run from any directory: Python puts
the script's own folder on sys.path). Needs python3-torch (Debian's 1.13 is fine) and numpy.
"""
import argparse
import json
import os
import struct
import time

import torch
import torch.nn.functional as F

SAFETENSORS_DTYPES = {torch.int64: "I64"}  # everything else is written as F32


def save_safetensors(path, tensors):
    """Writes tensors (name -> tensor, in order) as a safetensors file: int64 buffers as I64, the rest as F32."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = SAFETENSORS_DTYPES.get(t.dtype, "F32")
        data = (t if dtype != "F32" else t.to(torch.float32)).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """The F32 tensors of a safetensors file, by name."""
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, m in header.items():
        if name == "__metadata__":
            continue
        a, b = m["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).copy()).view(*m["shape"])
    return out


def start_fixture(name):
    """Parses --out (default model-zoo/src/test/resources/NAME), seeds torch with 0 on one thread; returns the folder."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "model-zoo/src/test/resources", name))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    return args.out


def perturb(model, chosen, scale=0.05):
    """Adds scale * N(0, 1) noise to the parameters whose names chosen(name) accepts, so that values HF's init
    leaves at 0 or 1 (biases, norms) are exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if chosen(name):
                p.add_(scale * torch.randn_like(p))


def save_model_dir(path, config, tensors):
    """An HF model folder: config.json and model.safetensors."""
    os.makedirs(path, exist_ok=True)
    save_safetensors(os.path.join(path, "model.safetensors"), tensors)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def load_model_dir(path):
    """(config, tensors) of an HF model folder written by save_model_dir."""
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    return config, load_safetensors(os.path.join(path, "model.safetensors"))


def write_rows(path, rows):
    """One "<name> <values...>" line per (name, integer tensor), row-major, whitespace-separated."""
    with open(path, "w") as f:
        for name, v in rows:
            f.write(name + " " + " ".join(str(int(x)) for x in v.flatten()) + "\n")


def write_expected(path, model, loss, steps=3, lr=1e-4):
    """Runs `steps` torch.optim.AdamW steps on loss() and writes "grad_norm <name> <norm>" for the first
    backward (parameters without a gradient left out) and "step <i> loss <loss>" for every step."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    lines = []
    for step in range(steps):
        opt.zero_grad()
        value = loss()
        value.backward()
        if step == 0:
            for name, p in model.named_parameters():
                if p.grad is not None:
                    lines.append("grad_norm %s %.6e" % (name, p.grad.norm().item()))
        lines.append("step %d loss %.7f" % (step, value.item()))
        opt.step()
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def add_run_args(p):
    """The options of a causal-LM reference CLI besides the model's sizes: the run, --save and --load."""
    p.add_argument("--seq", type=int, default=128); p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=3); p.add_argument("--threads", type=int, default=1); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", help="write an HF-layout model dir: config.json + model.safetensors")
    p.add_argument("--load", help="HF-layout model dir to load"); p.add_argument("--tokens"); p.add_argument("--grads", action="store_true")
    p.add_argument("--lr", type=float, default=1e-4)


def train_causal_lm(m, vocab_size, a, first_id=0):
    """Trains m (ids -> logits) with AdamW on --tokens, or on random ids in [first_id, vocab_size), printing the
    first step's per-parameter gradient norms (--grads), every step's loss and time, and the median step time."""
    if a.tokens:
        toks = torch.tensor([[int(x) for x in line.split()] for line in open(a.tokens) if line.strip()])
    else:
        toks = torch.randint(first_id, vocab_size, (a.batch, a.seq + 1), generator=torch.Generator().manual_seed(a.seed + 1))
    x, y = toks[:, :-1], toks[:, 1:]
    opt = torch.optim.AdamW(m.parameters(), lr=a.lr)
    times = []
    for step in range(a.steps):
        t0 = time.perf_counter()
        logits = m(x); loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(); loss.backward()
        if a.grads and step == 0:
            for n_, p_ in m.named_parameters(): print("grad_norm %s %.6e" % (n_, p_.grad.norm().item()))
        opt.step(); times.append(time.perf_counter() - t0)
        print("step %d loss %.6f time %.3fs" % (step, loss.item(), times[-1]))
    st = sorted(times[1:] or times)
    print("median_step_s %.4f tokens_per_s %.1f params %d" % (st[len(st) // 2], a.batch * a.seq / st[len(st) // 2],
                                                             sum(q.numel() for q in m.parameters())))
