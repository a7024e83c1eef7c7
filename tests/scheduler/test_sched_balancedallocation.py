"""NodeResourcesBalancedAllocation: balanced cpu and memory use scores higher."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState


def test_scores_follow_the_fraction_difference():
    env = Env([node("n", cpu="4", memory="8Gi")])
    plugin = env.plugin("NodeResourcesBalancedAllocation")
    ni = env.node_info("n")

    def score(cpu, mem):
        return plugin.score(CycleState(), env.pod_info(pod("p", cpu=cpu, memory=mem)), ni)

    assert score("2", "4Gi") == 100          # 50% and 50%
    assert score("2", "2Gi") == 87           # 50% vs 25%: 1 - 0.125 = 0.875
    assert score("4", None) == 50            # 100% vs 0%
    assert score("8", None) == 50            # fractions are capped at 1
    # A pod without requests: no container defaults here (real requests are used).
    assert score(None, None) == 100


def test_balanced_placement_wins_a_tie_on_least_allocated():
    env = Env([node("cpu-heavy", cpu="4", memory="8Gi"), node("mem-heavy", cpu="4",
                                                              memory="8Gi")])
    env.create(pod("x", cpu="2", memory="1Gi", nodeName="cpu-heavy"))
    env.create(pod("y", cpu="500m", memory="5Gi", nodeName="mem-heavy"))
    env.run()
    env.create(pod("p", cpu="1500m", memory="512Mi"))
    env.run()
    # cpu-heavy after p: cpu 87.5%, mem 18.75%; mem-heavy: cpu 50%, mem 68.75%.
    assert env.node_of("p") == "mem-heavy"
