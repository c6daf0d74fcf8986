"""The run store: every run trained once, kept in one SQLite file, shared by parallel workers.

``registry`` (the :class:`~grokclaims.store.registry.Registry` and its protocol), ``claiming``,
``heartbeat``, ``progress`` (its log lines), ``format`` (the file, its schema and statuses) and
``rows`` (what a row holds). May import engine, spec, data and provenance. ``format`` loads no
torch: the command line uses it before its arguments are checked.
"""
