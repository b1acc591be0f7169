"""save/load in the safetensors format: round trips here, and a BatchNorm MLP moving to
PyTorch and back (safetensors.torch on the other side), plus the errors."""
import os
import sys
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, serialization


@pytest.fixture
def safetensors():
    return pytest.importorskip("safetensors")


@pytest.fixture
def torch():
    pytest.importorskip("safetensors")
    return pytest.importorskip("torch")


def trained_mlp(seed=0):
    """nn.MLP 3-6-5-2 with BatchNorm whose running stats moved (two training batches)."""
    tg.manual_seed(seed)
    model = nn.MLP([3, 6, 5, 2], batchnorm=True)
    for _ in range(2):
        model(tg.randn(8, 3))
    return model


def torch_twin(torch):
    """The same architecture in PyTorch, with the same state-dict names, in float64."""
    tn = torch.nn
    return tn.Sequential(OrderedDict([
        ("fc1", tn.Linear(3, 6)), ("bn1", tn.BatchNorm1d(6)), ("relu1", tn.ReLU()),
        ("fc2", tn.Linear(6, 5)), ("bn2", tn.BatchNorm1d(5)), ("relu2", tn.ReLU()),
        ("fc3", tn.Linear(5, 2))])).double()


def assert_same_outputs(model, twin, torch, training):
    """Our model and its PyTorch twin give the same outputs on a random batch."""
    x = np.random.default_rng(1).standard_normal((7, 3))
    model.train(training), twin.train(training)
    with torch.no_grad():
        theirs = twin(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model(tg.tensor(x)).numpy(), theirs, rtol=1e-10, atol=1e-12)


def test_round_trip_keeps_keys_values_dtypes_and_the_exact_path(tmp_path, safetensors):
    state = {"fc.weight": np.arange(6.0).reshape(2, 3), "count": np.array(7, dtype=np.int64),
             "half": np.ones(2, dtype=np.float32), "flags": np.array([True, False]),
             "t": tg.tensor([1.5, 2.5]), "p": nn.Parameter(np.zeros((1, 2))),
             "strided": np.arange(12.0).reshape(3, 4)[:, ::2], "z": np.complex64(1 + 2j)}
    path = tg.save(state, tmp_path / "m.safetensors")
    assert path == str(tmp_path / "m.safetensors") and os.listdir(tmp_path) == ["m.safetensors"]
    loaded = tg.load(path)
    assert sorted(loaded) == sorted(state)
    for key, value in state.items():
        expected = value.numpy() if isinstance(value, tg.Tensor) else np.asarray(value)
        assert loaded[key].dtype == expected.dtype and loaded[key].shape == expected.shape
        np.testing.assert_array_equal(loaded[key], expected)
    # the plain safetensors reader sees the same file
    plain = safetensors.numpy.load_file(path)
    np.testing.assert_array_equal(plain["strided"], [[0, 2], [4, 6], [8, 10]])


def test_a_safetensors_file_is_recognised_by_its_header_whatever_its_name(tmp_path, safetensors):
    path = tmp_path / "weights.bin"
    safetensors.numpy.save_file({"w": np.eye(2)}, str(path))
    np.testing.assert_array_equal(tg.load(path)["w"], np.eye(2))


def test_state_dicts_of_tensors_or_arrays_both_save(tmp_path, safetensors):
    # Module.state_dict() returns Tensors (as PyTorch); arrays are accepted too
    model = trained_mlp()
    as_tensors = model.state_dict()
    as_arrays = OrderedDict((k, v.numpy()) for k, v in as_tensors.items())
    a = tg.load(tg.save(as_arrays, tmp_path / "a.safetensors"))
    b = tg.load(tg.save(as_tensors, tmp_path / "b.safetensors"))
    for key in as_arrays:
        assert a[key].dtype == b[key].dtype == as_arrays[key].dtype
        np.testing.assert_array_equal(a[key], b[key])


def test_a_model_saved_here_loads_into_pytorch_and_agrees(tmp_path, torch):
    import safetensors.torch
    model = trained_mlp()
    assert model.state_dict()["bn1.num_batches_tracked"].dtype == np.int64
    path = tg.save(model.state_dict(), tmp_path / "model.safetensors")
    twin = torch_twin(torch)
    state = safetensors.torch.load_file(path)
    assert state["bn1.num_batches_tracked"].shape == torch.Size([])   # 0-d, as PyTorch's
    result = twin.load_state_dict(state)   # strict
    assert not result.missing_keys and not result.unexpected_keys
    assert twin.bn1.num_batches_tracked.dtype == torch.int64
    assert int(twin.bn1.num_batches_tracked) == 2
    np.testing.assert_array_equal(twin.bn2.running_var.numpy(),
                                  model.bn2.running_var.numpy())
    assert_same_outputs(model, twin, torch, training=False)
    assert_same_outputs(model, twin, torch, training=True)   # with the batch statistics


def test_a_model_saved_by_pytorch_loads_here_and_agrees(tmp_path, torch):
    import safetensors.torch
    torch.manual_seed(0)
    twin = torch_twin(torch)
    opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    for _ in range(3):   # move the weights and the running stats away from their defaults
        opt.zero_grad()
        twin(torch.randn(8, 3, dtype=torch.float64)).square().mean().backward()
        opt.step()
    path = str(tmp_path / "torch_model.safetensors")
    safetensors.torch.save_file(twin.state_dict(), path)
    model = nn.MLP([3, 6, 5, 2], batchnorm=True)
    result = model.load_state_dict(tg.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert int(model.bn1.num_batches_tracked.item()) == 3
    assert model.bn1.num_batches_tracked.dtype == np.int64
    assert_same_outputs(model, twin, torch, training=False)


def test_float32_pytorch_weights_load_into_a_float32_model(tmp_path, torch):
    import safetensors.torch
    torch.manual_seed(1)
    layer = torch.nn.Linear(4, 3)
    path = str(tmp_path / "f32.safetensors")
    safetensors.torch.save_file(layer.state_dict(), path)
    loaded = tg.load(path)
    assert loaded["weight"].dtype == np.float32
    ours = nn.Linear(4, 3, dtype=np.float32)
    ours.load_state_dict(loaded)
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    with torch.no_grad():
        theirs = layer(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs, rtol=1e-6)


def test_what_safetensors_cannot_hold_is_refused_before_writing(tmp_path, safetensors):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="key 'optimizer'.*flat.*\\.npz"):
        tg.save({"model": np.ones(2), "optimizer": {"lr": 0.1}}, path)
    with pytest.raises(TypeError, match="key 'c'.*complex128.*safetensors format cannot"):
        tg.save({"c": np.ones(2, dtype=np.complex128)}, path)
    with pytest.raises(TypeError, match="key 'name'.*only numeric"):
        tg.save({"name": np.array(["text"])}, path)
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        tg.save({"__metadata__": np.ones(1)}, path)
    with pytest.raises(TypeError, match="keys must be strings"):
        tg.save({1: np.ones(1)}, path)
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_file(tmp_path, safetensors, monkeypatch):
    path = tmp_path / "m.safetensors"
    tg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="could not write .*m.safetensors.*No space left"):
        tg.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.safetensors"]


def test_bad_safetensors_files_raise_value_errors_naming_them(tmp_path, torch):
    import safetensors.torch
    bf16 = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(bf16))
    with pytest.raises(ValueError, match="bf16.safetensors' is not a valid .safetensors file: "
                                         "its tensor 'w' has dtype BF16, which NumPy cannot"):
        tg.load(bf16)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\xff" * 8 + b"{not json")
    with pytest.raises(ValueError, match="garbage.safetensors' is not a valid .safetensors"):
        tg.load(garbage)
    truncated = tmp_path / "truncated.safetensors"
    good = safetensors.torch.save({"w": torch.ones(100, dtype=torch.float64)})
    truncated.write_bytes(good[:len(good) // 2])
    with pytest.raises(ValueError, match="truncated.safetensors' is not a valid"):
        tg.load(truncated)
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.safetensors")


def test_without_the_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    tg.save({"w": np.ones(1)}, tmp_path / "w.npz")   # .npz needs nothing extra
    monkeypatch.setitem(sys.modules, "safetensors", None)   # makes `import safetensors` fail
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ModuleNotFoundError, match="save: the .safetensors format needs the "
                                                  "safetensors package: pip install safetensors"):
        tg.save({"w": np.ones(1)}, tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == ["w.npz"]
    (tmp_path / "w.safetensors").write_bytes(b"\x08" + b"\x00" * 7 + b"{}      ")
    with pytest.raises(ModuleNotFoundError, match="load: .*pip install safetensors"):
        tg.load(tmp_path / "w.safetensors")
    assert tg.load(tmp_path / "w.npz")["w"].tolist() == [1.0]


def test_the_torch_pickle_refusal_also_gives_the_safetensors_conversion(tmp_path, torch):
    path = tmp_path / "model.pt"
    torch.save({"fc.weight": torch.arange(4.0).reshape(2, 2)}, path)
    with pytest.raises(ValueError, match="PyTorch pickle file.*never unpickles") as error:
        tg.load(path)
    advice = str(error.value).split("with safetensors: ")[1]
    assert serialization.SAFETENSORS_SUFFIX in advice
    exec(advice.replace("'model.safetensors'", repr(str(tmp_path / "converted.safetensors"))),
         {"torch": torch, "safetensors": __import__("safetensors.torch")})
    assert tg.load(tmp_path / "converted.safetensors")["fc.weight"].tolist() == [[0, 1], [2, 3]]
