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
# 3: Song & Ye's attention computed position pair by position pair (element-wise products and
#    sums over the examples, the softmax written out, the 1/sqrt(head width) scaling folded into
#    the q weights) instead of PyTorch's fused attention kernel, and RMSNorm's backward written
#    out: the same maths, different rounding. Chopra MLP and tutorial runs compute bit for bit
#    what they computed at 2 (checked on the benchmark's cases); their ids change all the same.
# 4: a member's numbers no longer depend on the ensemble around it on a CPU (they did for some
#    shapes: Song & Ye at widths 4-20 and p = 23 trained differently alone than in an ensemble).
#    Batched products pad their feature counts to multiples of 8 and start each member's
#    matrix at a 64-byte boundary; an ensemble uses at most one CPU thread per member; Song &
#    Ye's gated SiLU takes its sigmoid as exp(logsigmoid); weight gradients are g^T x. Different
#    rounding for every family.
SCIENCE_VERSION = 4
