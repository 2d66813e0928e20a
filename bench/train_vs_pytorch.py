#!/usr/bin/python3
"""PyTorch (Debian's python3-torch) baseline for bench/train_bench.cpp: the same causal LM (Llama /
Qwen2 / Qwen3 / Mistral from a Hugging Face directory), the same synthetic batch and the same training
step (f32 weights, optional LoRA, loss on the target positions only, AdamW) as `usermirror train`.

Prints one JSON line: tokens/s over the timed steps, seconds per step, the first step's loss (the C++
run must report the same value) and peak RSS; with --count-ops 1 also the torch.autograd.profiler
events per step by name (the C++ side counts the same RecordFunction events). Run with
/usr/bin/python3.
"""
import argparse
import collections
import contextlib
import ctypes
import json
import math
import resource
import struct
import time

import numpy as np
import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype=np.float32)
        elif info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        else:
            raise SystemExit(f"unsupported dtype {info['dtype']}")
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


class Lin:
    def __init__(self, w, b, rank, alpha, gen):
        self.w, self.b, self.a, self.bm = w, b, None, None
        if rank > 0:
            bound = 1.0 / math.sqrt(w.shape[1])
            self.a = ((torch.rand(rank, w.shape[1], generator=gen, dtype=torch.float64) * 2 - 1) * bound).float()
            self.bm = torch.zeros(w.shape[0], rank)
            self.scale = alpha / rank

    def __call__(self, x):
        y = torch.nn.functional.linear(x, self.w, self.b)
        if self.a is not None:
            y = y + torch.nn.functional.linear(torch.nn.functional.linear(x, self.a), self.bm) * self.scale
        return y

    def params(self):
        return [p for p in (self.w, self.b, self.a, self.bm) if p is not None]


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


class Model:
    def __init__(self, d, lora_rank, lora_alpha, targets):
        self.c = json.load(open(f"{d}/config.json"))
        c = self.c
        t = load_safetensors(f"{d}/model.safetensors")
        self.H, self.nh = c["hidden_size"], c["num_attention_heads"]
        self.kvh = c.get("num_key_value_heads", self.nh)
        self.hd = c.get("head_dim") or self.H // self.nh
        self.eps = c["rms_norm_eps"]
        self.qk_norm = c["model_type"] == "qwen3"
        gen = torch.Generator().manual_seed(0)
        self.embed = t["model.embed_tokens.weight"]
        self.norm = t["model.norm.weight"]
        self.lm_head = t["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else t["lm_head.weight"]
        self.layers = []
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            lin = lambda n, mod: Lin(t[p + n + ".weight"], t.get(p + n + ".bias"),
                                     lora_rank if n.split(".")[-1] in targets else 0, lora_alpha, gen)
            L = dict(inorm=t[p + "input_layernorm.weight"], pnorm=t[p + "post_attention_layernorm.weight"],
                     q=lin("self_attn.q_proj", 0), k=lin("self_attn.k_proj", 0), v=lin("self_attn.v_proj", 0),
                     o=lin("self_attn.o_proj", 0), gate=lin("mlp.gate_proj", 0), up=lin("mlp.up_proj", 0),
                     down=lin("mlp.down_proj", 0))
            if self.qk_norm:
                L["qn"], L["kn"] = t[p + "self_attn.q_norm.weight"], t[p + "self_attn.k_norm.weight"]
            self.layers.append(L)
        theta = c.get("rope_theta", 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.hd, 2, dtype=torch.int64).float() / self.hd))
        allp = [self.embed, self.norm] + ([] if c.get("tie_word_embeddings") else [self.lm_head])
        for L in self.layers:
            allp += [L["inorm"], L["pnorm"]] + [x for k in ("q", "k", "v", "o", "gate", "up", "down") for x in L[k].params()]
            if self.qk_norm:
                allp += [L["qn"], L["kn"]]
        if lora_rank > 0:
            self.trainable = [x for L in self.layers for k in ("q", "k", "v", "o", "gate", "up", "down")
                              for x in (L[k].a, L[k].bm) if x is not None]
        else:
            self.trainable = allp
        for p in self.trainable:
            p.requires_grad_(True)
        self.n_params = sum(p.numel() for p in allp)

    def hidden(self, ids):
        B, T = ids.shape
        freqs = torch.arange(T, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos().view(1, T, 1, self.hd), emb.sin().view(1, T, 1, self.hd)
        x = torch.nn.functional.embedding(ids, self.embed)
        g = self.nh // self.kvh
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        for L in self.layers:
            h = rms_norm(x, L["inorm"], self.eps)
            q = L["q"](h).view(B, T, self.nh, self.hd)
            k = L["k"](h).view(B, T, self.kvh, self.hd)
            v = L["v"](h).view(B, T, self.kvh, self.hd)
            if self.qk_norm:
                q, k = rms_norm(q, L["qn"], self.eps), rms_norm(k, L["kn"], self.eps)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            qg = q.view(B, T, self.kvh, g, self.hd).permute(0, 2, 3, 1, 4)
            kg = k.permute(0, 2, 1, 3).unsqueeze(2)
            vg = v.permute(0, 2, 1, 3).unsqueeze(2)
            s = torch.matmul(qg, kg.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
            s = s.masked_fill(mask, float("-inf")).softmax(-1)
            a = torch.matmul(s, vg).permute(0, 3, 1, 2, 4).reshape(B, T, self.nh * self.hd)
            x = x + L["o"](a)
            h = rms_norm(x, L["pnorm"], self.eps)
            x = x + L["down"](torch.nn.functional.silu(L["gate"](h)) * L["up"](h))
        return rms_norm(x, self.norm, self.eps)


def batch(B, T, vocab, prompt):
    # The same formula as bench/train_bench.cpp.
    ids = torch.tensor([[(b * 7919 + t * 104729 + 13) % vocab for t in range(T)] for b in range(B)], dtype=torch.long)
    tgt = torch.zeros(B, T, dtype=torch.bool)
    tgt[:, prompt:] = True
    return ids, tgt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--lora-rank", type=int, default=0)
    ap.add_argument("--lora-alpha", type=float, default=16.0)
    ap.add_argument("--lora-targets", default="q_proj,k_proj,v_proj,o_proj")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--count-ops", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    # As `usermirror train` does: torch.set_num_threads does not reach OpenBLAS's own thread pool
    # (Debian's torch uses the pthreads OpenBLAS), so size it to the same count.
    # torch's libraries are loaded RTLD_LOCAL: find the loaded OpenBLAS by its path.
    with open("/proc/self/maps") as maps:
        blas = sorted({ln.split()[-1] for ln in maps if "libopenblas" in ln})
    if blas:
        ctypes.CDLL(blas[0]).openblas_set_num_threads(a.threads)
    m = Model(a.model, a.lora_rank, a.lora_alpha, set(a.lora_targets.split(",")))
    opt = torch.optim.AdamW(m.trainable, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    ids, tgt = batch(a.batch, a.seq, m.c["vocab_size"], a.seq // 4)
    losses, times = [], []
    prof = torch.autograd.profiler.profile() if a.count_ops else contextlib.nullcontext()
    with prof:
        run_steps(a, m, opt, ids, tgt, losses, times)
    timed = times[1:]  # the first step warms up allocators and thread pools
    tokens = a.batch * a.seq
    out = {"impl": "pytorch", "torch": torch.__version__, "first_loss": losses[0],
           "tokens_per_s": tokens * len(timed) / sum(timed), "s_per_step": sum(timed) / len(timed),
           "median_s_per_step": sorted(timed)[len(timed) // 2],
           "params": m.n_params, "trainable": sum(p.numel() for p in m.trainable),
           "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    if a.count_ops:
        n = collections.Counter(e.name for e in prof.function_events)
        out["ops"] = {k: v / len(times) for k, v in n.items()}
    print(json.dumps(out))


def run_steps(a, m, opt, ids, tgt, losses, times):
    for step in range(a.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        h = m.hidden(ids)
        sel = tgt[:, 1:]
        hs = h[:, :-1][sel]
        labels = ids[:, 1:][sel]
        logits = torch.nn.functional.linear(hs, m.lm_head)
        lp = torch.log_softmax(logits, -1).gather(1, labels[:, None]).squeeze(1)
        loss = -lp.sum() / sel.sum()
        loss.backward()
        # usermirror's step always computes (and logs) the global gradient norm.
        torch.nn.utils.clip_grad_norm_(m.trainable, float("inf"))
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())


if __name__ == "__main__":
    main()
