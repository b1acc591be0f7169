"""Small helpers shared by the examples: command line, accuracy, optional plots.

Every example runs as `python examples/<name>.py [--quick] [--plot] [--out DIR]`
and also exposes `main(argv) -> dict` so the tests can run it in-process and
check the figures it returns. Plots are written to files only (never shown),
and only when matplotlib is installed and --plot or --out was given.
"""
import argparse
import os

import numpy as np

from tinygrad_edu.plots import plot_decision_boundary


def parse_args(argv, description):
    """--quick (a few seconds), --plot (save figures), --out DIR (where; implies --plot)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    parser.add_argument("--plot", action="store_true", help="save figures (needs matplotlib)")
    parser.add_argument("--out", default=None, help="folder for figures (default: ./out)")
    args = parser.parse_args(argv)
    args.plot = args.plot or args.out is not None
    args.out = args.out or "out"
    return args


def accuracy(logits, labels):
    """Fraction of rows whose largest score sits at the true label."""
    scores = logits.numpy() if hasattr(logits, "numpy") else np.asarray(logits)
    return float(np.mean(scores.argmax(1) == np.asarray(labels)))


def pyplot(args):
    """matplotlib.pyplot with a file-only backend, or None when plots are off or impossible."""
    if not args.plot:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")     # write files; never open a window or block
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (matplotlib is not installed: skipping plots)")
        return None
    return plt


def save(fig, args, name):
    """Write `fig` to <out>/<name>.png and say where."""
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name + ".png")
    fig.savefig(path, dpi=90, bbox_inches="tight")
    fig.clf()
    print(f"  saved {path}")
    return path


def decision_regions(ax, predict, X, y, title, steps=150):
    """Colour the plane by predict(points) -> class ids and scatter the data on top."""
    plot_decision_boundary(predict, X, y, ax=ax, steps=steps, title=title)
