"""The StatefulSet identity machine's speed: examples per second at 30 steps.

    python benchmarks/bench_hypothesis.py [examples] [--breakdown]

Runs :class:`fakekube.testing.machines.StatefulSetIdentityMachine` with a fixed seed and
reports examples/s, the mean number of steps each example actually ran (Hypothesis may
stop an example early), and the time per step. ``--breakdown`` also times one more run
by part: building each example's machine (``Cluster()``, then the manifest applied and
settled), the rules (with the settles they do), the invariant checks, and what is left,
which is Hypothesis itself.
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


def run_machine(machine: type, examples: int, seed: int) -> float:
    """Wall time of ``examples`` examples of ``machine`` at 30 steps, from ``seed``."""
    cfg = settings(max_examples=examples, stateful_step_count=30, deadline=None,
                   database=None, phases=[Phase.generate],
                   suppress_health_check=list(HealthCheck), derandomize=False)
    from hypothesis import seed as hseed

    # The seed goes on the machine class: run_state_machine_as_test takes it from there
    # (a seed on a wrapper function would be ignored, and every run would draw anew).
    hseed(seed)(machine)
    try:
        t0 = time.perf_counter()
        run_state_machine_as_test(machine, settings=cfg)
        return time.perf_counter() - t0
    finally:
        del machine._hypothesis_internal_use_seed


def run(examples: int, seed: int) -> tuple[float, float]:
    Counted.steps = []
    wall = run_machine(Counted, examples, seed)
    return wall, statistics.mean(Counted.steps) - 1 if Counted.steps else 0.0


def breakdown(examples: int, seed: int) -> list[tuple[str, float]]:
    """Wall time by part of one run (timers wrapped around the machine's methods)."""
    import inspect

    import fakekube
    from hypothesis.stateful import RULE_MARKER

    spent = {"Cluster()": 0.0, "machine __init__": 0.0, "rules": 0.0, "invariants": 0.0}

    def timed(part, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - t
        return wrapper

    class Timed(StatefulSetIdentityMachine):
        __init__ = timed("machine __init__", StatefulSetIdentityMachine.__init__)
        check_invariants = timed("invariants", StatefulSetIdentityMachine.check_invariants)

    restore = []
    for _, f in inspect.getmembers(StatefulSetIdentityMachine):
        r = getattr(f, RULE_MARKER, None)
        if r is not None:
            restore.append((r, r.function))
            object.__setattr__(r, "function", timed("rules", r.function))
    cluster_init = fakekube.Cluster.__init__
    fakekube.Cluster.__init__ = timed("Cluster()", cluster_init)
    try:
        wall = run_machine(Timed, examples, seed)
    finally:
        fakekube.Cluster.__init__ = cluster_init
        for r, fn in restore:
            object.__setattr__(r, "function", fn)
    rest = spent["machine __init__"] - spent["Cluster()"]
    return [("  Cluster()", spent["Cluster()"]),
            ("  manifest applied and settled (machine __init__)", rest),
            ("  rules, with their settles", spent["rules"]),
            ("  invariant checks (History and invariants_hold)", spent["invariants"]),
            ("  Hypothesis itself (the rest)", wall - sum(spent.values()) + spent["Cluster()"]),
            ("  total", wall)]


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100
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
    if "--breakdown" in sys.argv:
        parts = breakdown(examples, 1)
        total = parts[-1][1]
        print(f"breakdown of one run ({examples} examples, seed 1):")
        for name, seconds in parts:
            print(f"{name:<52}  {seconds:>7.2f}s  {100 * seconds / total:>5.1f}%")


if __name__ == "__main__":
    sys.exit(main())
