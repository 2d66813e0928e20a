#!/usr/bin/python3
"""Figures for an arena report written by usermirror (report.json, src/arena/arena_report.h).

  /usr/bin/python3 scripts/plot_arena_report.py REPORT.json OUT_DIR

Writes OUT_DIR/win_rates.png (pairwise win-rate heatmap of the simulator: row beats column),
OUT_DIR/ranking.png (each recommender's rank by the simulator next to its rank by every offline
metric) and OUT_DIR/positions.png (mean choice probability per page slot, page and session protocols;
for interleaving, the simulator's score per recommender with its bootstrap interval).
Uses Debian's python3-matplotlib.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def win_rates(report, path):
    names = [r["name"] for r in report["recommenders"]]
    n = len(names)
    grid = [[float("nan")] * n for _ in range(n)]
    for p in report["pairwise"]:
        a, b = names.index(p["a"]), names.index(p["b"])
        if p["win_rate_a"] is not None:
            grid[a][b] = p["win_rate_a"]
            grid[b][a] = 1 - p["win_rate_a"]
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.0 * n + 2))
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdBu")
    ax.set_xticks(range(n), names, rotation=30, ha="right")
    ax.set_yticks(range(n), names)
    for i in range(n):
        for j in range(n):
            if grid[i][j] == grid[i][j]:
                ax.text(j, i, f"{grid[i][j]:.2f}", ha="center", va="center", fontsize=9)
    ax.set_title(f"win rate of row vs column ({report['protocol']})")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ranking(report, path):
    names = [r["name"] for r in report["recommenders"]]
    columns = [("simulator", report["ranking"])] + list(report["offline_ranking"].items())
    fig, ax = plt.subplots(figsize=(1.3 * len(columns) + 2, 0.5 * len(names) + 2))
    for name in names:
        ranks = [order.index(name) + 1 for _, order in columns]
        ax.plot(range(len(columns)), ranks, marker="o", label=name)
    ax.set_xticks(range(len(columns)), [c for c, _ in columns], rotation=30, ha="right")
    ax.set_yticks(range(1, len(names) + 1))
    ax.invert_yaxis()
    ax.set_ylabel("rank (1 = best)")
    ax.set_title("ranking: simulator vs offline metrics")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def positions(report, path):
    fig, ax = plt.subplots(figsize=(6, 4))
    recs = report["recommenders"]
    if all("position_curve" in r["simulated"] for r in recs):
        for r in recs:
            curve = r["simulated"]["position_curve"]
            ax.plot(range(1, len(curve) + 1), curve, marker="o", label=r["name"])
        ax.set_xlabel("page slot")
        ax.set_ylabel("mean choice probability")
        ax.set_title("position curves")
        ax.legend(fontsize=8)
    else:
        names = [r["name"] for r in recs]
        vals = [r["simulated"]["score"] or 0 for r in recs]
        lo = [v - (r["simulated"]["ci_low"] or v) for v, r in zip(vals, recs)]
        hi = [(r["simulated"]["ci_high"] or v) - v for v, r in zip(vals, recs)]
        ax.bar(names, vals, yerr=[lo, hi], capsize=4, color="tab:blue", alpha=0.8)
        fair = 1 / len(recs) if report["protocol"] == "multileave" else 0.5
        ax.axhline(fair, color="k", linestyle="--", linewidth=1)
        ax.set_ylabel("mean credit share" if report["protocol"] == "multileave" else "mean win rate")
        ax.set_title("simulator score per recommender")
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    report = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    win_rates(report, os.path.join(out, "win_rates.png"))
    ranking(report, os.path.join(out, "ranking.png"))
    positions(report, os.path.join(out, "positions.png"))


if __name__ == "__main__":
    main()
