"""grokclaims: claims of grokking research as executable, statistically checked experiments.

Data flows one way: spec -> registry (train what is missing, as vectorised ensembles)
-> measurements -> statistics -> verdict -> report.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Bumped whenever training semantics change (data generation, model maths, optimiser,
# measurement of traces). It is part of every run's identity, so a bump retrains.
SCIENCE_VERSION = 1
