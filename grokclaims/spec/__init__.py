"""What a run is: :class:`~grokclaims.spec.run.RunSpec` (task, model, optimiser, schedule, stop
rule, seed), its identity (the run id) and which runs share an ensemble. Imports
``grokclaims.families`` and ``grokclaims.data`` only."""
