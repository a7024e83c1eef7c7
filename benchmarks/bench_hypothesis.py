"""The StatefulSet identity machine's speed: examples per second at 30 steps.

    python benchmarks/bench_hypothesis.py [examples]

Runs :class:`fakekube.testing.machines.StatefulSetIdentityMachine` with a fixed seed and
reports examples/s, the mean number of steps each example actually ran (Hypothesis may
stop an example early), and the time per step.
"""

from __future__ import annotations

import statistics
import sys
import time

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from fakekube.testing.machines import StatefulSetIdentityMachine


class Counted(StatefulSetIdentityMachine):
    steps: list[int] = []

    def __init__(self) -> None:
        super().__init__()
        self._n = 0
        Counted.steps.append(0)

    def check_invariants(self, *args, **kwargs):  # called once per step by Hypothesis
        Counted.steps[-1] += 1
        return super().check_invariants(*args, **kwargs)


def run(examples: int, seed: int) -> tuple[float, float]:
    Counted.steps = []
    cfg = settings(max_examples=examples, stateful_step_count=30, deadline=None,
                   database=None, phases=[Phase.generate],
                   suppress_health_check=list(HealthCheck), derandomize=False)
    from hypothesis import seed as hseed

    t0 = time.perf_counter()
    hseed(seed)(lambda: run_state_machine_as_test(Counted, settings=cfg))()
    wall = time.perf_counter() - t0
    return wall, statistics.mean(Counted.steps) - 1 if Counted.steps else 0.0


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    walls, steps = [], []
    for seed in (1, 2, 3):
        wall, mean_steps = run(examples, seed)
        walls.append(wall)
        steps.append(mean_steps)
    wall = statistics.median(walls)
    print(f"{'benchmark':<44}  {'median':>10}  notes")
    print("-" * 100)
    print(f"{'identity machine, 30-step examples':<44}  {examples / wall:>8.1f}/s  "
          f"{examples} examples per run, 3 seeds; target >= 20 examples/s")
    print(f"{'mean steps actually run per example':<44}  {statistics.mean(steps):>10.1f}  ")
    print(f"{'time per step':<44}  {wall / examples / max(statistics.mean(steps), 1) * 1e3:>8.2f}ms")


if __name__ == "__main__":
    sys.exit(main())
