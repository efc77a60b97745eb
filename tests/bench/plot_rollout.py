#!/usr/bin/env python3
"""Plots config rollout latency beside its floor from bench_config_rollout's samples.

    plot_rollout.py OUT.png SAMPLES.csv

The empirical distribution (CDF) of "edit acknowledged -> every consumer's template
carries the new config" and of the floor measured in the same run (a snapshot
create, then the three DaemonSet writes in parallel, by one client), with the
p50 and p99 of each marked.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1) + 0.5))]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, samples = sys.argv[1], sys.argv[2]
    with open(samples, newline="") as f:
        rows = list(csv.DictReader(f))
    series = {
        "operator: edit acknowledged -> all templates": [float(r["acknowledged_ms"]) for r in rows],
        "floor: snapshot + 3 DaemonSet writes, one client": [float(r["floor_ms"]) for r in rows],
    }
    fig, ax = plt.subplots(figsize=(7, 4))
    for (label, values), style in zip(series.items(), ["-", "--"]):
        ordered = sorted(values)
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        ax.step(ordered, fractions, style, where="post", label=f"{label} (p50 {p50:.1f} ms, p99 {p99:.1f} ms)")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("fraction of edits")
    ax.set_title(f"Config rollout latency, {len(rows)} edits")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
