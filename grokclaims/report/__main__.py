"""``python -m grokclaims.report diff OLD NEW``."""

from __future__ import annotations

import sys

from grokclaims.report.report import main

sys.exit(main())
