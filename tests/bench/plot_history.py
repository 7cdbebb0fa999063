#!/usr/bin/python3
"""Draws a training run's history.csv (loss and top-1 per epoch) to a PNG for the README.
   plot_history.py history.csv out.png "title"
"""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = list(csv.DictReader(open(sys.argv[1])))
ep = [int(r["epoch"]) for r in rows]
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
a.plot(ep, [float(r["train_loss"]) for r in rows], "o-", label="train")
a.plot(ep, [float(r["val_loss"]) for r in rows], "s-", label="test")
a.set_xlabel("epoch"); a.set_ylabel("cross-entropy loss"); a.set_yscale("log"); a.legend(); a.grid(alpha=.3)
b.plot(ep, [float(r["train_top1"]) for r in rows], "o-", label="train top-1")
b.plot(ep, [float(r["val_top1"]) for r in rows], "s-", label="test top-1")
b.axhline(0.9, color="gray", ls="--", lw=1)
b.set_xlabel("epoch"); b.set_ylabel("accuracy"); b.set_ylim(0, 1.02); b.legend(loc="lower right"); b.grid(alpha=.3)
fig.suptitle(sys.argv[3] if len(sys.argv) > 3 else "")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
