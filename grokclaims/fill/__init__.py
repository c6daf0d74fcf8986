"""Filling a scale's runs past one machine: plan every run the selected claims need, train the
missing ones as large cross-claim ensembles on an executor, write each result into the store.

``collect`` (the runs, from a ``--grok-plan`` pytest session), ``plan`` (ensembles sized for the
device, costliest first), ``ledger`` (the store protocol of :mod:`grokclaims.store.registry`:
claim, complete with provenance, fail, release), ``task`` (what a worker runs), ``executors``
(``local``: this machine's GPUs or cores; ``ray``: a Ray cluster), ``driver`` (the loop and its
progress line) and ``command`` (``grokclaims fill``). Then ``pytest claims`` trains nothing and
judges. May import data, families, spec, engine, store, provenance, setups and plugin.
"""

from __future__ import annotations
