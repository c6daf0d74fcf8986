"""Pure measurements and statistics: numpy/SciPy arrays in, small frozen dataclasses out.

Owns the definitions of CLAIMS.md (milestones, delays, onsets, crossings, capacity, Fourier
concentration, censoring), the statistical tests (ranks, agreement, regression, multiplicity)
and, in ``bootstrap`` (every bootstrap, on one helper) and ``permutation``, every resampling:
the other modules compute points only.
Imports numpy, SciPy and other ``grokclaims.analysis`` modules only: no torch, no other package
of grokclaims.
"""
