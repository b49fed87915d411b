"""The tables of scripts/bench.sh, from every round's figures.

usage: ROWS=... [LOAD_shoal=...] python3 bench_table.py RESULTS
RESULTS holds "system round metric value" lines; ROWS one "metric better label..." line per
table row, in order. Prints the summary table (each system's mean over its rounds with the
spread, +-half the range as a percentage of the mean, and the ShoalFS/MooseFS ratio of
means), a blank line, then each round's figures.
"""
import os
import sys
from collections import defaultdict

SYSTEMS = [("shoal", "ShoalFS"), ("mfs", "MooseFS"), ("local", "local")]


def decimals(text):
    return len(text.split(".", 1)[1]) if "." in text else 0


def mean_cell(values):
    """'mean +-spread%' of (text) figures; the mean keeps the figures' precision."""
    if not values:
        return "-", None
    numbers = [float(v) for v in values]
    mean = sum(numbers) / len(numbers)
    cell = "%.*f" % (max(decimals(v) for v in values), mean)
    if len(numbers) > 1:
        half = (max(numbers) - min(numbers)) / 2
        spread = 100 * half / mean if mean else 0.0
        cell += " ±%.*f%%" % (1 if spread < 1 else 0, spread)
    return cell, mean


def main():
    figures = defaultdict(list)  # (system, metric) -> values in round order
    with open(sys.argv[1]) as results:
        for line in results:
            parts = line.split()
            if len(parts) != 4:
                continue
            system, round_, metric, value = parts
            try:
                float(value)
            except ValueError:
                continue  # fsbench printed something that is not a figure
            figures[(system, metric)].append((int(round_), value))
    rows = [line.split(None, 2) for line in os.environ["ROWS"].splitlines() if line.strip()]

    print("| metric | better | ShoalFS | MooseFS | local | ShoalFS/MooseFS |")
    print("|---|---|---:|---:|---:|---:|")
    for metric, better, label in rows:
        cells, means = [], {}
        for system, _ in SYSTEMS:
            values = [v for _, v in sorted(figures[(system, metric)])]
            cell, means[system] = mean_cell(values)
            cells.append(cell)
        shoal, mfs = means["shoal"], means["mfs"]
        ratio = "%.2f" % (shoal / mfs) if shoal is not None and mfs else "-"
        print("| %s | %s | %s | %s |" % (label, better, " | ".join(cells), ratio))
    loads = [os.environ.get("LOAD_" + system) or "-" for system, _ in SYSTEMS]
    print("| machine load average (1 min) at start / end, per round | - | %s | - |"
          % " | ".join(loads))

    print()
    print("| metric (each round) | ShoalFS | MooseFS | local |")
    print("|---|---:|---:|---:|")
    for metric, _, label in rows:
        cells = [" / ".join(v for _, v in sorted(figures[(system, metric)])) or "-"
                 for system, _ in SYSTEMS]
        print("| %s | %s |" % (label, " | ".join(cells)))


if __name__ == "__main__":
    main()
