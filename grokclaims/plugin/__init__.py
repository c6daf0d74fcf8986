"""pytest plugin: claims as experiment tests, one GPU per xdist worker, the verdict report.

Registered through the ``pytest11`` entry point as this module: pytest finds every hook and the
``grok`` fixture among its names; they are defined by concern in the modules below.

The plugin is in every pytest session of the environment, so importing it imports no torch,
scipy or matplotlib (those load when a claim test runs), and it stays inert (no header, no
store, no report) unless the session collects a claim test or asks for it with a ``--grok-*``
option (``session``).

- ``options``: the ``--grok-*`` options, their ini keys, the settings they resolve to and their
  checks;
- ``session``: configure (tryfirst: before conftests can initialise CUDA), activation, the
  header line, the claim marker's check, partial sessions, unconfigure; ``state``: what lives
  in ``config.stash``;
- ``workers``: the xdist hooks, one GPU per worker; ``progress``: the session's progress line;
- ``fill_first``: with ``-n``, every missing run of the collected claims trained first, as
  ``grokclaims fill`` does;
- ``fixture``: the ``grok`` fixture, a :class:`~grokclaims.plugin.context.Claim` (``context``)
  over the session's run registry (``registry``);
- ``collector``: each claim's payload to the controller, which prints the verdict as it arrives
  and writes the report (:mod:`grokclaims.report`).

The top layer: may import any package of grokclaims.
"""

from __future__ import annotations

from grokclaims.plugin.collector import pytest_runtest_makereport
from grokclaims.plugin.fill_first import pytest_xdist_node_collection_finished
from grokclaims.plugin.fixture import grok
from grokclaims.plugin.options import pytest_addoption
from grokclaims.plugin.session import (
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_deselected,
    pytest_report_header,
    pytest_unconfigure,
)
from grokclaims.plugin.state import session_scale
from grokclaims.plugin.workers import (
    pytest_cmdline_main,
    pytest_configure_node,
    pytest_testnodedown,
    pytest_xdist_auto_num_workers,
)

__all__ = [
    "grok",
    "pytest_addoption",
    "pytest_cmdline_main",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_deselected",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "pytest_xdist_auto_num_workers",
    "pytest_xdist_node_collection_finished",
    "session_scale",
]
