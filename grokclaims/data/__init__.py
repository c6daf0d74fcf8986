"""The data: modular-arithmetic tasks (:class:`~grokclaims.data.tasks.TaskSpec`), their splits,
encodings, random targets and seed derivation. Imports torch only, nothing of grokclaims."""
