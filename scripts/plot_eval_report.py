#!/usr/bin/python3
"""Figures for an evaluation report written by usermirror (report.json, pipeline/evaluate_report.h).

  /usr/bin/python3 scripts/plot_eval_report.py REPORT.json OUT_DIR

Writes OUT_DIR/reliability.png (reliability diagram of the simulator over all scenes: accuracy and mean
confidence per confidence bin, bar width ∝ scene count) and OUT_DIR/datasets.png (expected hit rate per
dataset with bootstrap intervals, the simulator next to each baseline). Uses Debian's python3-matplotlib.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def reliability(report, path):
    bins = report["simulator"]["overall"]["reliability"]
    total = max(1, sum(b["count"] for b in bins))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    for b in bins:
        if b["count"] == 0:
            continue
        width = (b["hi"] - b["lo"]) * (0.3 + 0.7 * b["count"] / total)
        mid = (b["lo"] + b["hi"]) / 2
        ax.bar(mid, b["accuracy"], width=width, color="tab:blue", alpha=0.7)
        ax.plot(mid, b["confidence"], "o", color="tab:red")
    ax.set_xlabel("confidence (max option probability)")
    ax.set_ylabel("argmax accuracy")
    ece = report["simulator"]["overall"]["ece"]["value"]
    ax.set_title(f"{report['simulator']['name']}: reliability (ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def per_dataset(report, path):
    tables = [report["simulator"]] + report["baselines"]
    datasets = sorted(report["simulator"]["by_dataset"])
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(datasets) * len(tables) / 2), 4))
    width = 0.8 / len(tables)
    for t, table in enumerate(tables):
        xs, ys, lo, hi = [], [], [], []
        for d, name in enumerate(datasets):
            m = table["by_dataset"].get(name)
            if m is None:
                continue
            e = m["expected_hit_rate"]
            xs.append(d + (t - (len(tables) - 1) / 2) * width)
            ys.append(e["value"])
            lo.append(e["value"] - e["ci_low"])
            hi.append(e["ci_high"] - e["value"])
        ax.bar(xs, ys, width=width, yerr=[lo, hi], capsize=2, label=table["name"])
    ax.set_xticks(range(len(datasets)))
    ax.set_xticklabels(datasets, rotation=30, ha="right")
    ax.set_ylabel("expected hit rate")
    ax.set_title(report.get("title", ""))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        report = json.load(f)
    os.makedirs(sys.argv[2], exist_ok=True)
    reliability(report, os.path.join(sys.argv[2], "reliability.png"))
    per_dataset(report, os.path.join(sys.argv[2], "datasets.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
