"""Each claim's rule: the function a claim test calls to turn its measurements into a verdict,
with the simulations that measure how often that rule is wrong (``errors``).

The rules implement CLAIMS.md revision 2 ("How a claim is decided"); a claim file measures and
calls its rule, and ``tests/test_claimrules.py`` feeds every rule data that contradict its claim
and data where it holds. Imports ``grokclaims.analysis`` and ``grokclaims.verdicts`` only.
"""

from __future__ import annotations

from grokclaims.claimrules import chopra_sim, song_ye, song_ye_capacity_sim, song_ye_cells, tutorial
from grokclaims.claimrules.errors import ClaimRule

RULES: dict[str, ClaimRule] = {
    **chopra_sim.RULES,
    **song_ye.RULES,
    **song_ye_capacity_sim.RULES,
    **song_ye_cells.RULES,
    **tutorial.RULES,
}
