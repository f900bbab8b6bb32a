"""Progress lines: a count, its total, the rate and the time left, at a steady pace (issue 15)."""

from __future__ import annotations

from rubricate.judge.stage import JudgeReport
from rubricate.progress import Progress, ProgressLog


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_lines_say_count_rate_and_time_left_at_a_steady_pace():
    clock = Clock()
    log = ProgressLog("judge rubric", every_s=10, clock=clock)
    clock.t = 20
    assert log.line(Progress(10, 40, "traces judged")) == "judge rubric: 10/40 traces judged (25%), 30.0/min, about 60 s left"
    clock.t = 25
    assert log.line(Progress(12, 40, "traces judged")) is None  # 5 s after the last line: quiet
    clock.t = 80
    assert log.line(Progress(40, 40, "traces judged")) == "judge rubric: 40/40 traces judged (100%), 30.0/min, 80 s in all"


def test_an_unknown_total_says_the_count_and_the_rate():
    clock = Clock()
    log = ProgressLog("verify", clock=clock)
    clock.t = 4
    assert log.line(Progress(680, None, "answers verified")) == "verify: 680 answers verified, 170.0/s, 4 s so far"


def test_the_end_is_always_logged():
    clock = Clock()
    log = ProgressLog("embed", every_s=60, clock=clock)
    clock.t = 1
    assert log.line(Progress(1, 3, "texts embedded")) is not None
    clock.t = 2
    assert log.line(Progress(2, 3, "texts embedded")) is None
    assert log.line(Progress(3, 3, "texts embedded")) is not None


def test_a_judge_report_counts_this_runs_work_only():
    report = JudgeReport("j", "rubric", "m", None, None, n_requested=50, n_already_judged=10, n_judged=5)
    assert report.progress() == Progress(5, 40, "traces judged")
