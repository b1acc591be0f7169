"""Benchmarks: tinygrad_edu vs a hand-written NumPy floor vs PyTorch eager.

Run them all with `python benchmarks/run.py` (see run.py for the flags).
"""
