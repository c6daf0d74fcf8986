"""The sources' setups: spec builders for each source's runs (``sources``, ``race``,
``capacity``), the measurement of those runs into arrays (``race_data``, ``capacity_data``, by
calling ``grokclaims.analysis``) and the scales that size them (``scales``).

Imports ``spec``, ``families``, ``data`` and ``analysis``; nothing above them.
"""
