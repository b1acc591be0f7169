"""Module.to / double / float / half / cpu / cuda, as PyTorch's."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn



def model():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


@pytest.mark.parametrize("call, dtype", [
    (lambda m: m.double(), np.float64), (lambda m: m.float(), np.float32),
    (lambda m: m.half(), np.float16), (lambda m: m.to(tg.float64), np.float64),
    (lambda m: m.to("cpu", tg.float32), np.float32), (lambda m: m.to(dtype=tg.float16), np.float16),
    (lambda m: m.to(tg.zeros(1, dtype=tg.float64)), np.float64)])
def test_floating_parameters_and_buffers_are_cast_in_place(call, dtype):
    m = model()
    params = list(m.parameters())
    m(tg.randn(5, 3).to(m[0].weight.dtype)).sum().backward()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    assert call(m) is m
    assert [p is q for p, q in zip(params, m.parameters())] == [True] * len(params)
    for k, v in m.state_dict().items():
        want = np.int64 if k.endswith("num_batches_tracked") else dtype
        assert v.dtype == want, k
        np.testing.assert_array_equal(v.numpy(), before[k].astype(want), err_msg=k)
    assert all(p.grad.dtype == dtype for p in m.parameters())
    out = m(tg.randn(5, 3).to(dtype))
    assert out.dtype == dtype


def test_an_optimizer_made_before_still_updates_the_same_parameters():
    m = model()
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    m.double()
    w = m[0].weight.numpy().copy()
    m(tg.randn(5, 3, dtype=tg.float64)).sum().backward()
    opt.step()
    assert m[0].weight.dtype == np.float64 and not np.array_equal(m[0].weight.numpy(), w)


def test_devices_and_bad_dtypes():
    m = model()
    assert m.to("cpu") is m and m.cpu() is m and m.to(device="cpu") is m
    with pytest.raises(RuntimeError, match="Module.to: device 'cuda'"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="Module.cuda"):
        m.cuda()
    with pytest.raises(TypeError, match="only accepts floating point dtypes.*int64"):
        m.to(tg.int64)
    with pytest.raises(TypeError, match="at most a device and a dtype"):
        m.to("cpu", tg.float64, 3)
    assert m[0].weight.dtype == tg.nn.Linear(1, 1).weight.dtype   # nothing changed


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    m = model().double()
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                            torch.nn.Linear(4, 2)).double()
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    m.float(), t.float()
    for (k, a), (_, b) in zip(m.state_dict().items(), t.state_dict().items()):
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), k
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(m(tg.tensor(x)).numpy(), t(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
