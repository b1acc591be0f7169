"""tune_malloc is an explicit opt-in that changes the process's allocator: test it in a subprocess."""
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import tinygrad_edu as tg
    from tinygrad_edu import nn, optim
    from tinygrad_edu.functional import cross_entropy

    rng = np.random.default_rng(0)
    model = nn.MLP([2, 16, 16, 8, 8, 3], batchnorm=True, generator=rng)
    opt = optim.Adam(model.parameters())
    X, y = tg.Tensor(rng.standard_normal((960, 2))), rng.integers(0, 3, 960)

    def faults_per_step(n=40):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(n):
            opt.zero_grad()
            cross_entropy(model(X), y).backward()
            opt.step()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / n

    faults_per_step(5)
    default = faults_per_step()
    applied = tg.tune_malloc()
    faults_per_step(5)
    print(applied, default, faults_per_step())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tune_malloc_stops_page_faults_per_step():
    env_free = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env_free, timeout=120, check=True).stdout.split()
    applied, default, tuned = out[0] == "True", float(out[1]), float(out[2])
    if not applied:
        pytest.skip("not glibc")
    assert tuned < default / 4, (default, tuned)
