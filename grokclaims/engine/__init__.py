"""Training, knowing nothing about claims: the batched ensemble trainer (``train``: the loop,
stopping and recording; ``ensemble``: the members' batched state and AdamW step), the plain
one-model reference loop (``plain``), what training returns (``trace``), process settings
(``runtime``), the device and threads of each worker (``devices``) and cost estimates
(``cost``). Imports ``grokclaims.spec``, ``grokclaims.families`` and ``grokclaims.data`` only."""
