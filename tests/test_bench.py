"""The benchmark's bookkeeping (not its timings: those belong to ``python -m grokclaims.bench``)."""

from __future__ import annotations

import pytest

from grokclaims import bench


def test_the_ratio_of_medians_lies_within_the_ratios_of_the_alternating_timings(capsys):
    rows = bench.run(epochs=2, plain_members=1, threads=None, scales=False, repeats=2)
    assert [r["members"] for r in rows] == [16, 32]
    for r in rows:
        assert r["repeats"] == 2 and r["epochs"] == 2
        assert 0 < r["ratio_min"] <= r["ratio"] <= r["ratio_max"]
        assert r["ratio"] == pytest.approx(
            r["ensemble_model_epochs_per_s"] / r["plain_model_epochs_per_s"]
        )
    # Song & Ye on a CPU is also timed compiled, with what compiling cost; the MLP is not
    a, b = rows
    assert 0 < a["compiled_ratio_min"] <= a["compiled_ratio"] <= a["compiled_ratio_max"]
    assert a["compiled_ratio"] == pytest.approx(
        a["compiled_ensemble_model_epochs_per_s"] / a["plain_model_epochs_per_s"]
    )
    assert a["compile_s"] > 0 and a["break_even_epochs"] > 0
    assert "compiled_ratio" not in b and "compile_s" not in b
    out = capsys.readouterr().out
    assert "median of 2 alternating timings" in out
    assert out.count("compiling:") == 1


def test_a_benchmark_without_timings_is_refused():
    with pytest.raises(ValueError, match="--repeats must be >= 1"):
        bench.run(epochs=2, plain_members=1, threads=None, scales=False, repeats=0)
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "0"])
