"""The StatefulSet identity state machine (issue 5's property test), as users get it."""

import os

from hypothesis import HealthCheck, settings

from fakekube.testing.machines import StatefulSetIdentityMachine

EXAMPLES = int(os.environ.get("FAKEKUBE_MACHINE_EXAMPLES", "200"))

TestStatefulSetIdentity = StatefulSetIdentityMachine.TestCase
TestStatefulSetIdentity.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
