"""Nightjar: a customer decisioning pipeline on Dagster and DuckDB, one package per domain."""

import os

# LightGBM's OpenMP threads sleep at a barrier rather than spin (read once, when LightGBM's OpenMP
# runtime loads, so before any module imports lightgbm): a training on two threads that another
# process starts competing with then runs about as fast as on one (spinning: 3-8 x slower), see
# pipeline/models/train.py training_threads. A value set in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
