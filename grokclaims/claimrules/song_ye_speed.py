"""The rule of Song & Ye's SY8 (CLAIMS.md, revision 2): memorisation speed predicted from
capacity and dataset complexity, out of sample, over cells that differ in K (the memory grid's
dataset sizes), against a baseline that ignores K. Times never reached are right-censored;
medians are Kaplan–Meier medians; nothing is imputed. Its simulations are in
``song_ye_capacity_sim`` beside SY1's and SY2's."""

from __future__ import annotations

import numpy as np
from scipy import stats

from grokclaims.analysis.bootstrap import MAX_EXACT, weighted_quantile
from grokclaims.analysis.capacity import weighted_ols
from grokclaims.analysis.survival import censor_at, km_median_rows
from grokclaims.claimrules.song_ye_capacity import seed_plan
from grokclaims.verdicts.decisions import decide_band
from grokclaims.verdicts.result import ClaimResult, Verdict
from grokclaims.verdicts.rules import decide_conjunction, decide_unmeasurable

SY8_MARGIN = 0.3  # median |log10 error| <= 0.3

# ------------------------------------------------------------------------------------ SY8


def _loco_errors(Y, x, cell):
    """|log10 error| of each point predicted by the line fitted on the other cells: Y (B, m)
    log10 medians (NaN: censored, left out), x (m,), cell (m,). NaN where not predictable."""
    err = np.full(Y.shape, np.nan)
    for c in np.unique(cell):
        train = (cell != c)[None, :] & np.isfinite(Y)
        xs = np.broadcast_to(x, Y.shape)
        b, a = weighted_ols(xs, np.where(train, Y, 0.0), train.astype(float))
        test = cell == c
        err[:, test] = np.abs(a[:, None] + b[:, None] * x[test] - Y[:, test])
    return err


def sy8(
    cells,
    C: float,
    budget: float,
    *,
    rng=None,
    n_resamples: int = 9999,
    max_exact: int = MAX_EXACT,
) -> ClaimResult:
    """SY8: over cells that differ in K, each left out in turn: log10 T_mem = a + b·log10(C·P/K)
    fitted on the other cells' Kaplan–Meier medians (observed ones only), the held-out cell's
    medians predicted. Supported if the median |log10 error| <= 0.3 (its 95 % bootstrap interval
    over seeds) and smaller than the baseline's (log10 T_mem on log10 P alone) by a paired
    one-sided Wilcoxon p < 0.05; refuted if that interval lies above 0.3 or the baseline is
    significantly better. ``cells``: [(P (w,), K, t_mem (w, seeds) NaN never reached)]."""
    name, tol = (
        "median |log10 error| (leave one cell out)",
        ("median |log10 error| ≤ 0.3 and below the baseline without K (Wilcoxon p < 0.05)"),
    )
    P = np.concatenate([np.asarray(c[0], float) for c in cells])
    Kp = np.concatenate([np.full(len(c[0]), float(c[1])) for c in cells])
    cell = np.concatenate([np.full(len(c[0]), i) for i, c in enumerate(cells)])
    t = np.concatenate([np.asarray(c[2], float) for c in cells])
    tt, cc = censor_at(t, budget)
    med, _ = km_median_rows(tt, cc)
    obs = np.isfinite(med)
    details = {"cells_with_a_median": int(np.unique(cell[obs]).size), "points": int(obs.sum())}
    if np.unique(cell[obs]).size < 2 or obs.sum() < 3:
        why = (
            f"T_mem's median is observed in {details['cells_with_a_median']} cell(s), at "
            f"{int(obs.sum())} (cell, width) points; leaving a cell out needs 2 cells, 3 points"
        )
        return decide_unmeasurable(name, tol, why, **details)
    xm, xb = np.log10(C * P / Kp), np.log10(P)
    y = np.where(obs, np.log10(med), np.nan)[None, :]
    em, eb = _loco_errors(y, xm, cell)[0], _loco_errors(y, xb, cell)[0]
    details["fit_all"] = tuple(
        float(v) for v in weighted_ols(xm[obs], y[0, obs], np.ones(int(obs.sum())))
    )
    ok = np.isfinite(em) & np.isfinite(eb)
    if ok.sum() < 2:
        return decide_unmeasurable(name, tol, "fewer than 2 held-out points predictable", **details)
    est = float(np.median(em[ok]))
    d = em[ok] - eb[ok]
    nz = d[d != 0]
    p_less = stats.wilcoxon(nz, alternative="less").pvalue if nz.size else 1.0
    p_more = stats.wilcoxon(nz, alternative="greater").pvalue if nz.size else 1.0
    idx, w = seed_plan(t.shape[1], rng, n_resamples, max_exact)
    bt, bc = tt[:, idx].transpose(1, 0, 2), cc[:, idx].transpose(1, 0, 2)  # (M, m, seeds)
    bmed, _ = km_median_rows(bt.reshape(-1, t.shape[1]), bc.reshape(-1, t.shape[1]))
    bmed = bmed.reshape(len(idx), -1)
    be = _loco_errors(np.log10(bmed), xm, cell)
    be = np.where(ok[None, :], be, np.nan)
    # a resample where a point is censored gives no error there: its median over the rest
    with np.errstate(all="ignore"):
        bmedian = np.nanmedian(np.where(np.isfinite(be), be, np.nan), axis=1)
    bmedian = np.where(np.isnan(bmedian), np.inf, bmedian)  # nothing predictable: open end
    ci = (float(weighted_quantile(bmedian, w, 0.025)), float(weighted_quantile(bmedian, w, 0.975)))
    details.update(
        median_error_baseline=float(np.median(eb[ok])),
        wilcoxon_p=float(p_less),
        wilcoxon_p_baseline_better=float(p_more),
        n_pairs=int(ok.sum()),
    )
    error = decide_band(
        name, est, ci, 0.0, SY8_MARGIN, tolerance="median |log10 error| ≤ 0.3", details=details
    )
    if p_less < 0.05:
        v, rule = Verdict.SUPPORTED, f"supported: Wilcoxon one-sided p = {p_less:.3g}"
    elif p_more < 0.05:
        v, rule = Verdict.REFUTED, f"refuted: the baseline is better, p = {p_more:.3g}"
    else:
        v, rule = Verdict.INCONCLUSIVE, f"inconclusive: Wilcoxon p = {p_less:.3g} ≥ 0.05"
    beats = ClaimResult(
        "model error below the baseline's",
        est - details["median_error_baseline"],
        None,
        float(p_less),
        "paired one-sided Wilcoxon p < 0.05",
        v,
        rule,
        {},
    )
    return decide_conjunction(
        "SY8", {"error": error, "beats baseline": beats}, headline="error", tolerance=tol
    )
