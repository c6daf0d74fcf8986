"""Project-local pytest settings, for both ``pytest tests`` and ``pytest claims``.

The grokclaims plugin is loaded through its ``pytest11`` entry point (options in
``grokclaims/plugin.py``) and the project's pytest settings are in ``pyproject.toml``
(``[tool.pytest.ini_options]``); this file only fixes the environment of the process.
"""

from __future__ import annotations

import os

# Claims draw figures on machines without a display (CI, GPU nodes, xdist workers): choose
# the non-interactive backend before anything imports matplotlib.
os.environ.setdefault("MPLBACKEND", "Agg")
