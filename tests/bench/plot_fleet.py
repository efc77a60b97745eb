#!/usr/bin/env python3
"""Plots labelled nodes over time from bench_fleet_start's CSV files.

    plot_fleet.py OUT.png FLOOR_RATE CURVE.csv [CURVE.csv ...]

FLOOR_RATE (nodes/s) draws the API server's pace for the largest fleet as a dashed
line from the operator's first label.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    out, floor_rate, files = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    fig, ax = plt.subplots(figsize=(7, 4))
    largest = None
    for name in files:
        with open(name, newline="") as f:
            rows = [(float(r["seconds"]), int(r["labelled"])) for r in csv.DictReader(f)]
        if not rows:
            continue
        ax.plot([t for t, _ in rows], [n for _, n in rows], label=f"{rows[-1][1]} nodes: operator")
        if largest is None or rows[-1][1] > largest[-1][1]:
            largest = rows
    if largest and floor_rate > 0:
        t0, total = largest[0][0], largest[-1][1]
        ax.plot([t0, t0 + total / floor_rate], [0, total], "--", color="grey",
                label=f"floor: plain client, {floor_rate:.0f} nodes/s")
    ax.set_xlabel("seconds since the operator started")
    ax.set_ylabel("nodes labelled")
    ax.set_title("Fleet start: GPU nodes labelled over time")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
