#!/usr/bin/python3
"""Independent oracle for `usermirror distil` (docs/method.md §8), written from the method description.

Reads <work>/datasets/<DS>_train.jsonl and <work>/probs/<DS>_probs_{strong,weak}.jsonl and writes one
JSON object with the expected per-scene metrics and the expected selected pairs:

  {"metrics": [{"dataset", "cid", <every §8.3 column>, "status"}...],
   "pairs": [{"dataset", "cid", "behavior_chosen", "behavior_rejected", "chosen": [variant, j],
              "rejected": [variant, j], "assistant_chosen", "assistant_rejected", "user"}...]}

Documented usermirror choices that the reference leaves to global RNG state (docs/reference-differences.md,
"Distil and evaluation") are reproduced here: behaviours are drawn from per-(dataset, variant, cid) streams
of util::Rng, sampled over exactly choice_cnt options; random ablations draw from per-scene streams.
util::Rng (splitmix64-seeded xoshiro256**, its stream derivation, uniform01 and Lemire's bounded
integers) is re-implemented below so the draws match; everything else is computed with numpy from the
docs/method.md. Run with Debian's /usr/bin/python3 (numpy).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

M64 = (1 << 64) - 1
FLOOR = 1e-10


# ---- util::Rng re-implementation (public algorithms) ---------------------------------------------
def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for c in s.encode("utf-8"):
        h ^= c
        h = (h * 0x100000001B3) & M64
    return h


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Rng:
    def __init__(self, seed):
        st = seed & M64
        self.s = []
        for _ in range(4):
            st, z = splitmix64(st)
            self.s.append(z)

    @staticmethod
    def stream(seed, stage, record):
        st = (seed ^ 0x5851F42D4C957F2D) & M64
        st, a = splitmix64(st)
        a ^= fnv1a64(stage)
        a, b = splitmix64(a)
        b ^= (record * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & M64
        _, z = splitmix64(b)
        return Rng(z)

    def next_u64(self):
        s = self.s
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform01(self):
        return (self.next_u64() >> 11) * (2.0 ** -53)

    def uniform_int(self, lo, hi):
        rng = hi - lo + 1
        m = self.next_u64() * rng
        low = m & M64
        if low < rng:
            t = ((1 << 64) - rng) % rng
            while low < t:
                m = self.next_u64() * rng
                low = m & M64
        return lo + (m >> 64)


# ---- §8.1 ------------------------------------------------------------------------------------------
def prob_vector(d, c):
    v = [FLOOR] * c
    for k, p in d.items():
        v[ord(k) - 65] = p
    v = np.maximum(np.array(v, dtype=np.float64), FLOOR)
    return v / v.sum()


def entropy(p):
    return float(-(p * np.log2(p)).sum())


def sample(p, rng):
    u = rng.uniform01()
    acc = 0.0
    for k, pk in enumerate(p.tolist()):
        acc += pk
        if u < acc:
            return k
    return len(p) - 1


def strip(s):
    return s.strip(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")


def cut(s):
    i = s.find("Behavior:")
    return strip(s if i < 0 else s[:i])


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


METRICS = ["teacher_entropy", "student_entropy", "teacher_uncertainty", "student_uncertainty",
           "teacher_data_uncertainty", "student_data_uncertainty", "diff_all_uncertainty",
           "diff_model_uncertainty", "diff_data_uncertainty", "teacher_logloss", "student_logloss",
           "teacher_hit", "student_hit", "diff_hit"]


def scene_rows(args, ds):
    train = read_jsonl(os.path.join(args.work, "datasets", f"{ds}_train.jsonl"))
    probs = {v: read_jsonl(os.path.join(args.work, "probs", f"{ds}_probs_{v}.jsonl")) for v in ("strong", "weak")}
    out = []
    for cid, scene in enumerate(train):
        c, g = scene["choice_cnt"], scene["item_pos"]
        rec = {"dataset": ds, "cid": cid, "choice_cnt": c, "scene": scene}
        per = {}
        for v in ("strong", "weak"):
            line = probs[v][cid]
            if not line["choice"]:
                per = None
                break
            rng = Rng.stream(args.seed, f"distil/behavior/{ds}/{v}", cid)
            ps = [prob_vector(d, c) for d in line["choice"]]
            ent = [entropy(p) for p in ps]
            ll = [float(-np.log2(p[g])) for p in ps]
            beh = [sample(p, rng) for p in ps]
            pref = [b == g for b in beh]
            mean = np.mean(np.stack(ps), axis=0)
            per[v] = dict(ps=ps, ent=ent, ll=ll, beh=beh, pref=pref, unc=entropy(mean),
                          texts=line["decision_list"])
        if per is None:
            continue  # no decisions in a variant: no metrics
        s, w = per["strong"], per["weak"]
        m = {}
        m["teacher_entropy"], m["student_entropy"] = float(np.mean(s["ent"])), float(np.mean(w["ent"]))
        m["teacher_uncertainty"], m["student_uncertainty"] = s["unc"], w["unc"]
        m["teacher_data_uncertainty"] = s["unc"] - m["teacher_entropy"]
        m["student_data_uncertainty"] = w["unc"] - m["student_entropy"]
        m["diff_all_uncertainty"] = m["student_uncertainty"] - m["teacher_uncertainty"]
        m["diff_model_uncertainty"] = m["student_entropy"] - m["teacher_entropy"]
        m["diff_data_uncertainty"] = m["diff_all_uncertainty"] - m["diff_model_uncertainty"]
        m["teacher_logloss"], m["student_logloss"] = float(np.mean(s["ll"])), float(np.mean(w["ll"]))
        m["teacher_hit"], m["student_hit"] = float(np.mean(s["pref"])), float(np.mean(w["pref"]))
        m["diff_hit"] = m["student_hit"] - m["teacher_hit"]
        rec["metrics"] = m
        # §8.2 valid filter, §8.5 pool.
        if not any(s["pref"]) and not any(w["pref"]):
            rec["status"] = "no_hit"
            out.append(rec)
            continue
        pool = [("strong", j) for j in range(len(s["pref"]))] + \
               [("weak", j) for j in range(len(w["pref"])) if not w["pref"][j]]
        col = "ent" if args.sampling_column == "entropy" else "ll"
        rng = Rng.stream(args.seed, f"distil/sampling/{ds}", cid)
        picks = {}
        for want in (True, False):
            cands = [(v, j) for (v, j) in pool if per[v]["pref"][j] == want]
            if not cands:
                picks[want] = None
                continue
            if args.sampling_column == "random":
                picks[want] = cands[rng.uniform_int(0, len(cands) - 1)]
            else:
                keys = [per[v][col][j] for (v, j) in cands]
                picks[want] = cands[int(np.argmin(keys))]  # first minimum = pool order
        rec["picks"] = picks
        rec["per"] = per
        rec["status"] = ("no_teacher_hit" if picks[True] is None else
                         "no_miss" if picks[False] is None else "candidate")
        out.append(rec)
    return out


def allocate(sizes, select, mode):
    total = sum(sizes)
    if mode == "reference":
        n_rows = 2 * total
        t = min(select, n_rows)
        remaining, out = t, []
        for s in sizes:
            a = min(math.ceil(2 * s / n_rows * t), 2 * s, remaining)
            remaining -= a
            out.append(min(a, s))
        return out
    t = min(select, total)
    quotas = [s * t / total for s in sizes] if total else []
    out = [s * t // total for s in sizes]
    rema = sorted(range(len(sizes)), key=lambda g: (-(sizes[g] * t % total), g))
    left = t - sum(out)
    for g in rema[:left]:
        out[g] += 1
    assert all(abs(o - q) < 1 for o, q in zip(out, quotas))
    return out


def user_message(text):
    actions = "\n".join(f"[{chr(65 + i)}] {a}" for i, a in enumerate(text["action_list"]))
    return f"# User Profile\n{text['profile']}\n\n## History\n{text['history']}\n\n# Exposure List\n{actions}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--datasets", required=True)
    ap.add_argument("--select", type=int, default=10000)
    ap.add_argument("--filter-column", default="diff_model_uncertainty")
    ap.add_argument("--sampling-column", default="entropy")
    ap.add_argument("--ascending", action="store_true")
    ap.add_argument("--allocation", default="proportional")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    datasets = args.datasets.split(",")
    rows = []
    for d, ds in enumerate(datasets):
        for r in scene_rows(args, ds):
            r["source"] = d
            rows.append(r)
    cands = [r for r in rows if r["status"] == "candidate"]
    for r in cands:
        if args.filter_column == "random":
            r["key"] = Rng.stream(args.seed, f"distil/filter/{r['dataset']}", r["cid"]).uniform01()
        else:
            r["key"] = r["metrics"][args.filter_column]
    desc = not args.ascending or args.filter_column == "random"
    groups = {}
    for r in cands:
        groups.setdefault((r["dataset"], r["choice_cnt"]), []).append(r)
    keys = sorted(groups)
    take = allocate([len(groups[k]) for k in keys], args.select, args.allocation)
    selected = []
    for k, a in zip(keys, take):
        g = sorted(groups[k], key=lambda r: ((-r["key"] if desc else r["key"]), r["source"], r["cid"]))
        selected.extend(g[:a])
    selected.sort(key=lambda r: (r["source"], r["cid"]))
    pairs = []
    for r in selected:
        ch, rj = r["picks"][True], r["picks"][False]
        per = r["per"]
        bc, br = per[ch[0]]["beh"][ch[1]], per[rj[0]]["beh"][rj[1]]
        pairs.append({
            "dataset": r["dataset"], "cid": r["cid"], "user_id": str(r["scene"]["user_id"]),
            "item_id": str(r["scene"]["item_id"]), "timestamp": r["scene"]["timestamp"],
            "behavior_chosen": chr(65 + bc), "behavior_rejected": chr(65 + br),
            "chosen": list(ch), "rejected": list(rj),
            "user": user_message(r["scene"]["text"]),
            "assistant_chosen": cut(per[ch[0]]["texts"][ch[1]]) + f"\nBehavior: [{chr(65 + bc)}]",
            "assistant_rejected": cut(per[rj[0]]["texts"][rj[1]]) + f"\nBehavior: [{chr(65 + br)}]",
        })
    metrics = [dict(dataset=r["dataset"], cid=r["cid"], status=r["status"], **r["metrics"]) for r in rows]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"metrics": metrics, "pairs": pairs, "groups": [[k[0], k[1], len(groups[k]), a]
                                                                   for k, a in zip(keys, take)]}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
