"""The figures of the report: matplotlib (Agg) figures built from measurements, never from runs.

``race``: Song & Ye's race figures; ``capacity``: their memory grid's (SY1, SY2, SY8);
``dynamics``: training curves and sweeps of the Chopra MLP and the tutorial transformer. Each
function returns a ``matplotlib.figure.Figure`` that a claim attaches with ``grok.figure(fig)``.
The figures draw what they are given: every number they show (means, medians, spectra,
milestones) is measured by the claim with ``grokclaims.analysis`` and passed in.

Imports ``analysis`` and ``setups`` (the measured objects); nothing above them.
"""

import matplotlib

matplotlib.use("Agg")
