"""The pytest plugin's per-test overhead: 300 tests that take the ``kube`` fixture against
300 that take none, in the same pytest process; the difference per test is the fixture's
setup and teardown.

    python benchmarks/bench_plugin.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

N = 300
TESTS = textwrap.dedent(f"""
    import pytest

    @pytest.mark.parametrize("i", range({N}))
    def test_with_kube(kube, i):
        assert kube.now

    @pytest.mark.parametrize("i", range({N}))
    def test_without(i):
        assert i >= 0
""")


class Timer:
    def __init__(self) -> None:
        self.durations: dict[str, list[float]] = {"with": [], "without": []}

    def pytest_runtest_logreport(self, report):  # noqa: D401 - pytest hook
        if report.when in ("setup", "call", "teardown"):
            bucket = "with" if "test_with_kube" in report.nodeid else "without"
            self.durations[bucket].append(report.duration)


def main() -> None:
    rounds = []
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "test_overhead.py"
        path.write_text(TESTS)
        for _ in range(3):
            timer = Timer()
            pytest.main(["-q", "-p", "no:cacheprovider", str(path)], plugins=[timer])
            per_with = sum(timer.durations["with"]) / N
            per_without = sum(timer.durations["without"]) / N
            rounds.append(per_with - per_without)
    overhead = statistics.median(rounds)
    print()
    print(f"{'benchmark':<48}  {'median':>9}  notes")
    print("-" * 100)
    print(f"{'kube fixture: setup + teardown per test':<48}  {overhead * 1e3:>7.2f}ms  "
          f"{N} tests, 3 rounds; target < 5 ms")


if __name__ == "__main__":
    start = time.perf_counter()
    sys.exit(main())
