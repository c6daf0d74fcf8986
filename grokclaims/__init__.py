"""grokclaims: claims of grokking research as executable, statistically checked experiments.

Data flows one way: spec -> registry (train what is missing, as vectorised ensembles)
-> measurements -> statistics -> verdict -> report.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Bumped whenever training semantics change (data generation, model maths, optimiser,
# measurement of traces). It is part of every run's identity, so a bump retrains.
# 2: dropout masks from 16 random bits per unit (four units per 64-bit draw of the member's
#    generator; P(drop) = round(rate · 2^16) / 2^16, kept units scaled by its inverse) instead
#    of one float draw per unit; Song & Ye's rotary embeddings applied to the q/k weights per
#    position instead of to q and k (the same maths, different rounding).
SCIENCE_VERSION = 2
