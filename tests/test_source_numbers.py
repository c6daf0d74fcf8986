"""At the nightly and paper scales the claims run the sources' own setups, and the report shows
the source's numbers beside ours; at smoke scale (another prime) they are only a note.

Black box: the real CH1 claim in a pytester session, at the nightly setup with its epoch budget
cut to 100 epochs and one seed (a couple of seconds; the claim is then refuted, which is beside
the point: the report's rows are what is checked).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from toyclaims import report_dirs, run_claims

from grokclaims.setups import scales

CHOPRA = Path(__file__).resolve().parents[1] / "claims" / "test_chopra.py"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _short(scale: scales.Scale, epochs: int) -> scales.Scale:
    ch = dataclasses.replace(scale.ch, setup=scale.ch.setup.replace(max_epochs=epochs))
    return scale.replace(ch=ch)


def _ch1_rows(pytester, monkeypatch, name: str) -> dict[str, list[str]]:
    monkeypatch.setitem(scales.SCALES, name, _short(scales.SCALES[name], 100))
    pytester.makepyfile(test_chopra=CHOPRA.read_text())
    result = run_claims(pytester, "-k", "ch1", "--grok-scale", name, "--grok-seeds", "1")
    result.assert_outcomes(failed=1)  # 100 epochs: no grokking, CH1 refuted
    (report,) = report_dirs(pytester.path / "reports")
    rows = {}
    for line in (report / "REPORT.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("median "):
            rows[cells[0].split(" (")[0]] = cells
    return rows


def test_nightly_report_shows_the_sources_numbers_beside_ours(pytester, monkeypatch):
    rows = _ch1_rows(pytester, monkeypatch, "nightly")
    assert rows["median overfit epoch"][3] in ("350", "350.0")
    assert rows["median grok epoch"][3].replace(",", "") in ("2300", "2300.0")
    assert rows["median delay"][3].replace(",", "") in ("1900", "1900.0")


def test_smoke_report_names_the_source_only_in_a_note(pytester, monkeypatch):
    rows = _ch1_rows(pytester, monkeypatch, "smoke")
    for name in ("median overfit epoch", "median grok epoch"):
        assert rows[name][3] == ""
        assert "not comparable (p = 31)" in rows[name][0]
