"""``python -m grokclaims runs ...``: the same command line as the ``grokclaims`` script."""

from __future__ import annotations

import sys

from grokclaims.cli import main

if __name__ == "__main__":
    sys.exit(main())
