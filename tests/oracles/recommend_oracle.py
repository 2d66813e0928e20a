#!/usr/bin/python3
"""Independent oracle for src/recommend (tests/recommend/oracle_test.cpp).

Reads a prepared dataset (raws/<DS>_{user_feature,item_feature,interaction}.jsonl) and the C++
results (JSON: split summary, top-K lists and mean metrics per recommender), recomputes everything
from the definitions with numpy/scipy, and exits 1 on any disagreement:
  split    global-time:Q — train = interactions with timestamp <= numpy.quantile(timestamps, Q);
           test items without a train interaction dropped; test users = >= 1 train and >= 1 test.
  pop      score = number of train interactions of the item.
  itemknn  sim(a,b) = co-occurrence / (sqrt(n_a) sqrt(n_b) + shrink) on the binary train matrix;
           column j of W keeps the k largest sim(i, j), i != j, sim > 0 (ties: smaller row);
           score = sum over the history rows of W (ascending rows).
  ease     B = -inv(XᵀX + λI) / diag, diag(B) = 0, score = x_history @ B (numpy.linalg.inv).
  ranking  train items outside the history, score descending then ascending item row; top K.
  metrics  HR, Recall, NDCG, MRR, Precision @K with binary relevance (RecBole's definitions).
pop and itemknn lists must be identical. EASE's inverse differs from ours in the last bits, so a list
may differ only where the oracle's own scores tie within 1e-9 (relative); such users are counted.
"""
import argparse
import calendar
import datetime
import json
import sys

import numpy as np
import scipy.sparse as sp


def micros(text):
    dt = datetime.datetime.fromisoformat(text)
    return calendar.timegm(dt.timetuple()) * 1_000_000 + dt.microsecond


def read_ids(path, key):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[key] for line in f if line.strip()]


def ranking(scores, candidates, excluded, k):
    cand = np.array([c for c in candidates if c not in excluded], dtype=np.int64)
    order = np.lexsort((cand, -scores[cand]))  # last key is primary: score desc, then row asc
    return [int(c) for c in cand[order[:k]]]


def metrics(lst, rel, k):
    rel = set(rel)
    hits = [1 if x in rel else 0 for x in lst[:k]]
    n_hit = sum(hits)
    dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits))
    idcg = sum(1 / np.log2(r + 2) for r in range(min(len(rel), k)))
    first = next((r + 1 for r, h in enumerate(hits) if h), 0)
    return {f"hr@{k}": float(n_hit > 0), f"recall@{k}": n_hit / len(rel), f"ndcg@{k}": dcg / idcg,
            f"mrr@{k}": 1 / first if first else 0.0, f"precision@{k}": n_hit / k}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--cpp", required=True)
    args = ap.parse_args()
    cpp = json.load(open(args.cpp))
    q, k = cpp["quantile"], cpp["k"]
    raws = f"{args.work}/raws/{args.dataset}"
    users = read_ids(f"{raws}_user_feature.jsonl", "user_id")
    items = read_ids(f"{raws}_item_feature.jsonl", "item_id")
    urow, irow = {}, {}
    for r, u in enumerate(users):
        urow.setdefault(u, r)
    for r, i in enumerate(items):
        irow.setdefault(i, r)
    us, its, ts = [], [], []
    unknown = 0
    with open(f"{raws}_interaction.jsonl", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            x = json.loads(line)
            if x["user_id"] not in urow or x["item_id"] not in irow:
                unknown += 1
                continue
            us.append(urow[x["user_id"]])
            its.append(irow[x["item_id"]])
            ts.append(micros(x["timestamp"]))
    us, its, ts = np.array(us), np.array(its), np.array(ts, dtype=np.int64)
    cut = np.quantile(ts, q)
    train = ts <= cut
    n_u, n_i = len(users), len(items)
    in_train = np.zeros(n_i, dtype=bool)
    in_train[its[train]] = True
    test_items = {}
    for u, i, tr in zip(us, its, train):
        if not tr and in_train[i]:
            test_items.setdefault(int(u), []).append(int(i))
    has_train = np.zeros(n_u, dtype=bool)
    has_train[us[train]] = True
    test_users = sorted(u for u in test_items if has_train[u])
    failures = []

    def check(what, ours, theirs):
        if ours != theirs:
            failures.append(f"{what}: oracle {ours!r}, C++ {theirs!r}")

    s = cpp["split"]
    check("cutoff_us", int(np.floor(cut)), s["cutoff_us"])
    check("unknown_ids", unknown, s["unknown_ids"])
    check("train_interactions", int(train.sum()), s["train_interactions"])
    check("test_interactions", sum(len(v) for v in test_items.values()), s["test_interactions"])
    check("dropped_unseen_test", int((~train).sum()) - sum(len(v) for v in test_items.values()),
          s["dropped_unseen_test"])
    check("test_users", [users[u] for u in test_users], s["test_users"])

    X = sp.csr_matrix((np.ones(int(train.sum())), (us[train], its[train])), shape=(n_u, n_i))
    X.data[:] = 1.0  # duplicates summed by the constructor: binary again
    candidates = [int(i) for i in np.nonzero(in_train)[0]]
    hist = {u: sorted(set(X[u].indices.tolist())) for u in test_users}

    scorers = {}
    pop = np.bincount(its[train], minlength=n_i).astype(np.float64)
    scorers["pop"] = lambda u: pop

    kk, shrink = cpp["itemknn"]["k"], cpp["itemknn"]["shrink"]
    co = (X.T @ X).toarray()
    norm = np.sqrt(np.asarray(X.sum(axis=0)).ravel())
    sim = co / (np.outer(norm, norm) + shrink)
    W = np.zeros((n_i, n_i))
    for j in candidates:
        nb = np.array([i for i in np.nonzero(co[:, j])[0] if i != j], dtype=np.int64)
        if len(nb) == 0:
            continue
        keep = nb[np.lexsort((nb, -sim[nb, j]))[:kk]]
        W[keep, j] = sim[keep, j]

    def knn(u):
        acc = np.zeros(n_i)
        for h in hist[u]:
            acc += W[h]
        return acc
    scorers["itemknn"] = knn

    lam = cpp["ease"]["lambda"]
    cand = np.array(candidates)
    Xc = X[:, cand].toarray()
    G = Xc.T @ Xc + lam * np.eye(len(cand))
    P = np.linalg.inv(G)
    B = P / (-np.diag(P))
    np.fill_diagonal(B, 0.0)

    def ease(u):
        x = np.zeros(len(cand))
        x[np.isin(cand, hist[u])] = 1.0
        full = np.zeros(n_i)
        full[cand] = x @ B
        return full
    scorers["ease"] = ease

    for name, score_of in scorers.items():
        got = cpp["recommenders"][name]
        ties = 0
        ours_lists, cpp_lists, rel = [], [], []
        for u in test_users:
            sc = score_of(u)
            mine = ranking(sc, candidates, set(hist[u]), k)
            theirs = [irow[i] for i in got["lists"][users[u]]]
            ours_lists.append(mine)
            cpp_lists.append(theirs)
            rel.append(sorted(set(test_items[u])))
            if mine == theirs:
                continue
            tol = 1e-9 * max(1.0, float(np.max(np.abs(sc[cand]))))
            same_scores = len(mine) == len(theirs) and all(
                abs(sc[a] - sc[b]) <= tol for a, b in zip(mine, theirs)) and not set(theirs) & set(hist[u])
            if name == "ease" and same_scores:
                ties += 1
            else:
                failures.append(f"{name}: user {users[u]}: oracle {[items[i] for i in mine]}, "
                                f"C++ {got['lists'][users[u]]}")
        for label, lists in (("oracle lists", ours_lists), ("C++ lists", cpp_lists)):
            per = [metrics(l, r, k) for l, r in zip(lists, rel)]
            for m in per[0]:
                mean = float(np.mean([p[m] for p in per]))
                if label == "C++ lists" or ties == 0:
                    if abs(mean - got["metrics"][m]) > 1e-9:
                        failures.append(f"{name} {m} on {label}: oracle {mean!r}, C++ {got['metrics'][m]!r}")
        print(f"{name}: {len(test_users)} users, lists equal for {len(test_users) - ties} "
              f"(+{ties} differing only inside oracle score ties), "
              f"hr@{k}={got['metrics'][f'hr@{k}']:.4f} ndcg@{k}={got['metrics'][f'ndcg@{k}']:.4f}")
    for f in failures[:30]:
        print("MISMATCH", f)
    print(f"recommend oracle: {len(failures)} mismatch(es)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
