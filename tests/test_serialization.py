"""save/load: .npz checkpoints, never pickle, atomic writes, validated loading."""
import os
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


def files_in(directory):
    return sorted(os.listdir(directory))


def test_round_trip_keeps_keys_values_and_dtypes(tmp_path):
    state = {"fc1.weight": np.arange(6.0).reshape(2, 3), "bn.count": np.array(7, dtype=np.int64),
             "half": np.ones(2, dtype=np.float32), "flags": np.array([True, False]),
             "file": np.zeros(1), "allow_pickle": np.ones(1),   # np.savez's own argument names
             "t": tg.tensor([1.5, 2.5])}
    path = tg.save(state, tmp_path / "ckpt.npz")
    assert path == str(tmp_path / "ckpt.npz") and files_in(tmp_path) == ["ckpt.npz"]
    loaded = tg.load(path)
    assert list(loaded) == list(state)
    for key, value in state.items():
        expected = value.data if isinstance(value, tg.Tensor) else value
        assert loaded[key].dtype == expected.dtype
        np.testing.assert_array_equal(loaded[key], expected)
    with np.load(path, allow_pickle=False) as plain:   # an ordinary .npz for NumPy too
        assert sorted(plain.files) == sorted(state)


def test_path_without_npz_gets_the_suffix_like_numpy(tmp_path):
    path = tg.save({"a": np.ones(1)}, str(tmp_path / "model"))
    assert path.endswith("model.npz") and os.path.exists(path)
    assert files_in(tmp_path) == ["model.npz"]
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "model")   # load opens exactly the path given, as np.load


def test_model_round_trip_through_a_file(tmp_path):
    tg.manual_seed(0)
    model = nn.MLP([3, 6, 2], batchnorm=True)
    model(tg.randn(8, 3))   # give the BatchNorm running stats non-default values
    tg.save(model.state_dict(), tmp_path / "m.npz")
    fresh = nn.MLP([3, 6, 2], batchnorm=True)
    fresh.load_state_dict(tg.load(tmp_path / "m.npz"))
    model.eval(), fresh.eval()
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(model(x).data, fresh(x).data)


def test_object_arrays_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="key 'meta'.*dtype object"):
        tg.save({"w": np.ones(2), "meta": np.array([{"a": 1}], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="key 'name'"):
        tg.save({"name": np.array(["text"])}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be strings"):
        tg.save({1: np.ones(1)}, tmp_path / "x.npz")
    assert files_in(tmp_path) == []


def test_failed_write_leaves_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    calls = []

    def failing_write_array(fp, array, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(fp, array, **kw)

    real = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="disk full"):
        tg.save({"w": np.zeros(3), "b": np.zeros(2)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(tg.load(path)["w"], np.ones(3))


def test_overwrite_replaces_the_file(tmp_path):
    path = tmp_path / "c.npz"
    tg.save({"w": np.ones(3)}, path)
    tg.save({"w": np.zeros(2)}, path)
    assert tg.load(path)["w"].tolist() == [0, 0] and files_in(tmp_path) == ["c.npz"]


def test_truncated_and_corrupted_files_give_clear_errors(tmp_path):
    good = tmp_path / "good.npz"
    tg.save({"w": np.arange(100.0)}, good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.npz' is not a valid checkpoint"):
        tg.load(truncated)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="garbage.npz' is not a valid checkpoint"):
        tg.load(garbage)
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(2))
    with pytest.raises(ValueError, match="single array"):
        tg.load(npy)
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.npz")


def test_pickled_contents_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"x": 1}], dtype=object))   # needs pickle to read
    with pytest.raises(ValueError, match="not a valid checkpoint.*allow_pickle=False"):
        tg.load(path)


def test_wrong_file_leaves_model_unchanged(tmp_path):
    model = nn.MLP([2, 4, 3])
    before = model.state_dict()
    other = nn.MLP([2, 5, 3])
    tg.save(other.state_dict(), tmp_path / "other.npz")
    with pytest.raises(RuntimeError, match=r"'fc1.weight': shape \(5, 2\) in the state dict, "
                                           r"\(4, 2\) in the model"):
        model.load_state_dict(tg.load(tmp_path / "other.npz"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_saved_archive_layout_is_plain_npy_entries(tmp_path):
    path = tg.save({"layer.0.weight": np.eye(2)}, tmp_path / "a.npz")
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["layer.0.weight.npy"]


def test_full_checkpoint_with_optimizer_and_scheduler_resumes_identically(tmp_path):
    # The PyTorch habit: one file with the model, the optimizer and the epoch.
    from tinygrad_edu import optim
    tg.manual_seed(3)
    X, y = tg.randn(16, 2), np.arange(16) % 3

    def steps(model, opt, sched, n):
        for _ in range(n):
            opt.zero_grad()
            tg.functional.cross_entropy(model(X), y).backward()
            opt.step()
            sched.step()

    model = nn.MLP([2, 5, 3], batchnorm=True)
    opt = optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    steps(model, opt, sched, 3)
    path = tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "epoch": 3, "note": None},
                   tmp_path / "ckpt")
    assert files_in(tmp_path) == ["ckpt.npz"]
    back = tg.load(path)
    assert back["epoch"] == 3 and back["note"] is None
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)

    model2 = nn.MLP([2, 5, 3], batchnorm=True)
    opt2 = optim.Adam(model2.parameters(), lr=1.0)
    sched2 = optim.StepLR(opt2, step_size=7)
    model2.load_state_dict(back["model"])
    opt2.load_state_dict(back["optimizer"])
    sched2.load_state_dict(back["scheduler"])
    steps(model, opt, sched, 3)
    steps(model2, opt2, sched2, 3)
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.05 * 0.5 ** 3


def test_nested_values_that_would_need_pickle_are_refused_by_path(tmp_path):
    with pytest.raises(TypeError, match="key 'meta/when' is a object"):
        tg.save({"w": {"a": np.ones(2)}, "meta": {"when": object()}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="key 'names/0' has dtype <U"):
        tg.save({"names": [np.array(["text"])]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="expected a dict"):
        tg.save([np.ones(2)], tmp_path / "x.npz")
    assert files_in(tmp_path) == []
