"""The benchmark's pieces run on a small text (speed itself is measured by `python -m bpe.bench`, not here)."""

from __future__ import annotations

from bpe.bench import bench_training


def test_bench_training_extrapolates_from_a_short_recount_run(taylorswift):
    result = bench_training(taylorswift[:20000], 300, 10)
    assert result["recount_merges_run"] == 10
    assert result["recount_cpu_seconds_estimated_full"] >= result["recount_cpu_seconds_measured"] > 0
