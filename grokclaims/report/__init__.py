"""The verdict report of a session: REPORT.md, figures/*.png and results.json.

Layout: ``<report dir>/<UTC time>-<scale>/`` and a ``latest`` link to the newest (``write``).
REPORT.md (``render``) has a header (scale, seeds, git commit, device, duration, runs trained vs
reused), the verdict table, one section per claim (figures, numbers beside the source's, the
source sentence, the rule that decided), the expected outcomes at this scale, and the verdicts
that moved since the previous report of the same scale (``history``). ``plan``: the table of
``--grok-plan``. ``python -m grokclaims.report diff OLD NEW`` compares two reports (exit 1 when
a verdict moved; the nightly job uses it). Reads the claims' results as JSON; imports
provenance, and engine's cost model for the plan.
"""

from grokclaims.report.history import absent, changes, previous_report, verdict_of, verdicts
from grokclaims.report.plan import plan_table
from grokclaims.report.render import estimate_text, render
from grokclaims.report.write import session_meta, write_report

__all__ = [
    "absent",
    "changes",
    "estimate_text",
    "plan_table",
    "previous_report",
    "render",
    "session_meta",
    "verdict_of",
    "verdicts",
    "write_report",
]
