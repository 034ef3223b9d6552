"""The spooler through random printer faults (bench/spooler_faults.py, 80 jobs here): 0 truncated, 0 twice."""

from __future__ import annotations

from bench.spooler_faults import run


def test_random_faults_never_report_a_truncated_job_printed_nor_print_one_twice() -> None:
    result = run(jobs=80, seed=7, timeout_s=120)
    assert result.faults["reset"] > 5 and result.resets > 5 and result.voided_pieces > 0  # the faults did happen
    assert result.done == result.confirmed == 80
    assert result.truncated_reported_printed == 0
    assert result.printed_twice == 0
