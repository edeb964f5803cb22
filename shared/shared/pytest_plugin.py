"""A pytest plugin (loaded wherever `shared` is installed): counts tests skipped for missing data.

A data test skips when its file is absent, so a suite can pass while testing less than it
should. This plugin ends each run with one line saying how many tests skipped for missing data,
and, where `DNN_SKIP_REPORT` names a folder, writes the count there for `nox` to add up.
Skips count as 'for missing data' when their reason says `data file` (the wording of
`shared.testing.data_or_skip` and of the projects' fixtures).
"""

from __future__ import annotations

import os
from pathlib import Path

MARK = "data file"


def _data_skips(terminalreporter) -> int:
    return sum(
        1
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and MARK in str(report.longrepr[2])
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = _data_skips(terminalreporter)
    if count:
        terminalreporter.write_line(
            f"{count} tests skipped for missing data (run `nox -s data` to see which files)", yellow=True
        )
    folder = os.environ.get("DNN_SKIP_REPORT")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        name = Path(str(config.rootpath)).name or "root"
        (Path(folder) / f"{name}.txt").write_text(f"{count}\n")
