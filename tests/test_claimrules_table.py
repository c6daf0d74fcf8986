"""The error-rate table (``python -m grokclaims.claimrules``, docs/error_rates.md) has a row for
every claim of CLAIMS.md at every scale, with numbers or the reason the scale cannot decide it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grokclaims.claimrules import __main__ as table
from grokclaims.claimrules.errors import SCALE_SEEDS

CLAIMS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "CLAIMS.md"


@pytest.fixture(scope="module")
def rows():
    return table.rows(reps=4)


def test_the_ids_are_the_21_claims_of_claims_md():
    assert len(table.CLAIM_IDS) == len(set(table.CLAIM_IDS)) == 21
    if not CLAIMS_MD.exists():
        pytest.skip(f"{CLAIMS_MD} is not beside this checkout: only the count is checked")
    ids = set(re.findall(r"^\| ((?:SY|CH|BR)\d+) \|", CLAIMS_MD.read_text(), re.M))
    assert ids == set(table.CLAIM_IDS)


def test_every_claim_has_a_row_per_scale(rows):
    seen = {(row, scale) for row, scale, _, _ in rows}
    for claim_id in table.CLAIM_IDS:
        for scale in SCALE_SEEDS:
            assert (claim_id, scale) in seen, (claim_id, scale)


def test_undecidable_rows_say_why_and_others_have_numbers(rows):
    by = {(row, scale): cells for row, scale, _, cells in rows}
    assert not [k for k, cells in by.items() if "no revision-2 rule registered" in cells]
    assert re.match(r"\d+\.\d% \| \d+\.\d% \| \d+\.\d% \| \d+\.\d%", by[("SY1", "paper")])
    assert by[("SY7", "smoke")].startswith("cannot be decided at this scale: 2 cells")
    assert by[("CH2", "paper")].startswith("cannot be decided at this scale: 10 seeds")
    assert re.match(r"\d+\.\d% \| \d+\.\d% \| \d+\.\d% \| \d+\.\d%", by[("SY7", "paper")])
