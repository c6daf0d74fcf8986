"""Every claim rule of ``grokclaims.claimrules`` can fail, and fails rarely when it should not.

For each rule: data that contradict the claim never give "supported", data where it holds
never give "refuted" (the claim's own decision function, the one its test calls), and the
simulated false-support rate is at most 5 % at each scale's number of seeds (CLAIMS.md
revision 2, "Error rates").
"""

from __future__ import annotations

import numpy as np
import pytest

from grokclaims.claimrules import RULES, chopra
from grokclaims.claimrules.errors import MAX_FALSE_SUPPORT, error_rates
from grokclaims.setups.scales import SCALES
from grokclaims.verdicts import Verdict

SEEDS = sorted({s.n_seeds for s in SCALES.values()})


@pytest.mark.parametrize("n_seeds", SEEDS)
@pytest.mark.parametrize("claim_id", sorted(RULES))
def test_false_support_at_most_5_percent(claim_id, n_seeds):
    rates = error_rates(RULES[claim_id], n_seeds)
    assert rates.false_support <= MAX_FALSE_SUPPORT, rates.text()
    assert rates.false_refute <= MAX_FALSE_SUPPORT, rates.text()


def test_the_rates_are_reproducible_and_can_tell_the_scenarios_apart():
    a, b = error_rates(RULES["CH5"], 10), error_rates(RULES["CH5"], 10)
    assert a == b
    assert a.power > 0.5 > a.false_support  # the rule sees the difference at 10 seeds


# ------------------------------------------------------------------------------------ CH5


def test_ch5_refutes_a_slow_operation():
    # "+" takes twice as long as "*" in every seed: the ratio's interval lies above 1.5.
    n = 8
    groks = {"+": [4000.0] * n, "-": [2100.0] * n, "*": [2000.0] * n}
    result = chopra.ch5(groks, 5000)
    assert result.verdict is Verdict.REFUTED
    assert result.estimate == pytest.approx(2.0)


def test_ch5_is_not_supported_when_an_operation_never_groks():
    groks = {"+": [None, None, None], "-": [2100.0] * 3, "*": [2000.0] * 3}
    result = chopra.ch5(groks, 5000)
    assert result.verdict is not Verdict.SUPPORTED
    # the censored median is never a number: the ratio's interval is open above
    assert np.isinf(result.interval[1])


def test_ch5_does_not_refute_the_sources_timescales():
    groks = {op: [m - 50.0, m, m + 50.0] for op, m in chopra.SRC_OP.items()}
    result = chopra.ch5(groks, 5000)
    assert result.verdict is not Verdict.REFUTED
    groks = {op: [m - 50.0, m, m, m + 50.0] * 2 for op, m in chopra.SRC_OP.items()}
    assert chopra.ch5(groks, 5000).verdict is Verdict.SUPPORTED


def test_every_claim_of_the_catalogue_has_a_rule_with_both_scenarios():
    """All 21 claim ids (SY1-SY10, CH1-CH6, BR1-BR5) are decided by a registered rule whose
    simulations feed it data that contradict the claim and data where it holds."""
    from grokclaims.claimrules.__main__ import CLAIM_IDS

    assert len(CLAIM_IDS) == 21
    missing = [c for c in CLAIM_IDS if c not in RULES]
    assert not missing, f"claims without a rule: {missing}"
    for claim_id in CLAIM_IDS:
        rule = RULES[claim_id]
        assert rule.holds.description and rule.fails.description, claim_id
