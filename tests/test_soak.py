"""The soak of `make soak` (benchmarks/soak_bench.py), shortened to a few nights so that `make test` runs it:
the GitOps loop with random kills, concurrent runs and union merges loses, doubles and clobbers nothing."""

from __future__ import annotations

from pathlib import Path

from benchmarks.soak_bench import soak


def test_nights_of_kills_concurrent_runs_and_union_merges_deliver_each_approved_email_once(tmp_path: Path) -> None:
    counts = soak(nights=8, seed=8, where=tmp_path)
    assert counts.nights == 8 and counts.sends > 8 and counts.merges > 0 and counts.concurrent_runs > 0
    assert counts.messages > 0 and counts.messages == counts.approved
    assert (counts.duplicates, counts.lost_lines, counts.doubled_lines) == (0, 0, 0)
    assert (counts.approved_not_arrived, counts.unapproved_arrived, counts.books_changed) == (0, 0, 0)
