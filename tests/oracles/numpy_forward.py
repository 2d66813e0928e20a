#!/usr/bin/python3
"""Independent numpy forward pass for Llama-family causal LMs (the exactness oracle of src/model).

Written from the Hugging Face architecture definitions (modeling_llama / qwen2 / qwen3 / mistral),
not from our C++: RMSNorm in float, rotate_half RoPE (with the "llama3" frequency scaling), grouped
query attention via repeat_kv, Qwen2 q/k/v biases, Qwen3 per-head q/k RMSNorm, tied embeddings.
Everything is computed in float64 from the stored weights (bf16/f16/f32 read exactly).

Usage: numpy_forward.py --model DIR --ids 1,2,3 --out FILE [--all-positions]
Writes little-endian float32 logits (rows x vocab, row-major) and prints "rows cols".
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + hlen])
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a : base + b]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2")
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"unsupported dtype {dt} for {name}")
        out[name] = arr.astype(np.float64).reshape(info["shape"])
    return out


def load_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        w = {}
        for fn in files:
            w.update(read_safetensors(os.path.join(model_dir, fn)))
        return w
    return read_safetensors(os.path.join(model_dir, "model.safetensors"))


def rms_norm(x, w, eps):
    var = np.mean(x * x, axis=-1, keepdims=True)
    return w * (x / np.sqrt(var + eps))


def inv_frequencies(cfg, head_dim):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "llama3":
            factor = rs["factor"]
            low = rs["low_freq_factor"]
            high = rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            low_wavelen = old / low
            high_wavelen = old / high
            scaled = []
            for f in inv:
                wavelen = 2 * math.pi / f
                if wavelen < high_wavelen:
                    scaled.append(f)
                elif wavelen > low_wavelen:
                    scaled.append(f / factor)
                else:
                    smooth = (old / wavelen - low) / (high - low)
                    scaled.append((1 - smooth) * f / factor + smooth * f)
            inv = np.array(scaled)
        elif kind not in (None, "default"):
            raise SystemExit(f"unsupported rope scaling {kind}")
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def forward(model_dir, ids):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    arch = cfg["architectures"][0]
    w = load_weights(model_dir)
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kvh = cfg.get("num_key_value_heads") or nh
    d = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    L = cfg["num_hidden_layers"]
    qkv_bias = arch == "Qwen2ForCausalLM" or cfg.get("attention_bias", False)
    qk_norm = arch == "Qwen3ForCausalLM"
    T = len(ids)

    x = w["model.embed_tokens.weight"][ids]  # [T, H]
    pos = np.arange(T, dtype=np.float64)
    freqs = np.outer(pos, inv_frequencies(cfg, d))  # [T, d/2]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]  # [T, 1, d]
    causal = np.triu(np.ones((T, T), dtype=bool), k=1)

    for l in range(L):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = h @ w[p + "self_attn.q_proj.weight"].T
        k = h @ w[p + "self_attn.k_proj.weight"].T
        v = h @ w[p + "self_attn.v_proj.weight"].T
        if qkv_bias:
            q = q + w[p + "self_attn.q_proj.bias"]
            k = k + w[p + "self_attn.k_proj.bias"]
            v = v + w[p + "self_attn.v_proj.bias"]
        q = q.reshape(T, nh, d)
        k = k.reshape(T, kvh, d)
        v = v.reshape(T, kvh, d)
        if qk_norm:
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # repeat_kv: kv head j serves query heads j*g .. j*g+g-1
        g = nh // kvh
        k = np.repeat(k, g, axis=1)
        v = np.repeat(v, g, axis=1)
        qh, kh, vh = q.transpose(1, 0, 2), k.transpose(1, 0, 2), v.transpose(1, 0, 2)  # [heads, T, d]
        scores = qh @ kh.transpose(0, 2, 1) / math.sqrt(d)
        scores = np.where(causal[None], -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs = probs / probs.sum(axis=-1, keepdims=True)
        attn = (probs @ vh).transpose(1, 0, 2).reshape(T, nh * d)
        x = x + attn @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        act = gate / (1.0 + np.exp(-gate)) * up
        x = x + act @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--all-positions", action="store_true")
    a = ap.parse_args()
    ids = [int(t) for t in a.ids.split(",")]
    logits = forward(a.model, ids)
    if not a.all_positions:
        logits = logits[-1:]
    logits.astype("<f4").tofile(a.out)
    print(f"{logits.shape[0]} {logits.shape[1]}")


if __name__ == "__main__":
    sys.exit(main())
