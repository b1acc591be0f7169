"""save/load: .npz checkpoints, never pickle, atomic writes, validated loading."""
import io
import json
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
        expected = value.numpy() if isinstance(value, tg.Tensor) else value
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
    np.testing.assert_array_equal(model(x).numpy(), fresh(x).numpy())


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
    before = {k: v.clone() for k, v in model.state_dict().items()}
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


# --- keys come back exactly, or are refused --------------------------------------------

AWKWARD_KEYS = ["a", "a.npy", "a.npy.npy", "a\0b", "a\0c", "__structure__", "", "a/b", "a\\b",
                "../up", "/abs", "\ud800", "ü.weight", "k" * 2000, "0"]


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_every_string_key_round_trips_exactly(tmp_path, nested):
    # "a" and "a.npy" were one member to np.load, and a zip name stops at a NUL byte
    state = {key: np.full(2, float(i)) for i, key in enumerate(AWKWARD_KEYS)}
    if nested:
        state = {"model": state, "epoch": 1, "by_index": {0: np.ones(1), "0": np.zeros(1)}}
    loaded = tg.load(tg.save(state, tmp_path / "k.npz"))
    inner, expected = (loaded["model"], state["model"]) if nested else (loaded, state)
    assert list(inner) == AWKWARD_KEYS
    for key in AWKWARD_KEYS:
        np.testing.assert_array_equal(inner[key], expected[key], err_msg=repr(key))
    if nested:
        assert [(type(k), v.tolist()) for k, v in loaded["by_index"].items()] == \
               [(int, [1.0]), (str, [0.0])]


def test_keys_holding_slashes_do_not_collide_with_nested_paths(tmp_path):
    state = {"a/b": np.zeros(1), "a": {"b": np.ones(1), "b_": np.full(1, 2.0)}}
    back = tg.load(tg.save(state, tmp_path / "s.npz"))
    assert back["a/b"].tolist() == [0] and back["a"]["b"].tolist() == [1]
    assert back["a"]["b_"].tolist() == [2]


def test_plain_keys_stay_a_plain_npz_and_awkward_ones_still_load(tmp_path):
    path = tg.save({"fc.weight": np.ones(2), "x.npy": np.zeros(1)}, tmp_path / "k.npz")
    # "x.npy" can't be a plain member, so the file carries its keys in the structure entry
    with np.load(path) as plain:
        assert "__structure__" in plain.files
    assert list(tg.load(path)) == ["fc.weight", "x.npy"]


def test_non_string_keys_are_refused_never_changed(tmp_path):
    for state, where in [({1: np.ones(1)}, "keys must be strings, got 1"),
                         ({"a": {1.5: np.ones(1)}}, "got 1.5 .float. at 'a'"),
                         ({"a": {np.int64(3): 1}}, r"got np.int64\(3\) .int64."),
                         ({"a": {True: 1}}, "got True .bool.")]:
        with pytest.raises(TypeError, match=where):
            tg.save(state, tmp_path / "x.npz")
    assert files_in(tmp_path) == []


# --- save: cycles and depth ----------------------------------------------------------

def test_save_refuses_cycles_and_bounds_nesting(tmp_path):
    loop = {"w": np.ones(1)}
    loop["me"] = loop
    with pytest.raises(ValueError, match="dict at 'me' contains itself"):
        tg.save(loop, tmp_path / "x.npz")
    items = []
    items.append(items)
    with pytest.raises(ValueError, match="list at 'a/0' contains itself"):
        tg.save({"a": items}, tmp_path / "x.npz")
    deep = np.ones(1)
    for _ in range(5000):
        deep = {"d": deep}
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        tg.save(deep, tmp_path / "x.npz")
    assert files_in(tmp_path) == []
    # the limit itself round-trips, and a value used twice (no cycle) is saved twice
    deep = [np.arange(3.0)]
    for _ in range(98):
        deep = [deep]
    shared = {"lr": 0.1}
    back = tg.load(tg.save({"deep": deep, "a": shared, "b": shared}, tmp_path / "ok.npz"))
    for _ in range(99):
        back_deep = back["deep"] if _ == 0 else back_deep[0]
    assert back_deep[0].tolist() == [0, 1, 2] and back["a"] == back["b"] == {"lr": 0.1}


# --- load: only checkpoints, every refusal a ValueError naming the file --------------

def write_zip(path, members):
    """A zip of raw members {name: bytes}: files save() never writes."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array))
    return buffer.getvalue()


def structure_file(path, structure, **arrays):
    members = {k + ".npy": npy_bytes(v) for k, v in arrays.items()}
    text = structure if isinstance(structure, str) else json.dumps(structure)
    members["__structure__.npy"] = npy_bytes(np.array(text))
    return write_zip(path, members)


CRAFTED_STRUCTURES = {
    "wrong_json_type": ({"dict": 5}, "'dict': int"),
    "a_list_node": ([1, 2], "top level is not a one-entry JSON object"),
    "a_list_as_array_name": ({"dict": [["w", {"array": ["w"]}]]}, "names the array \\['w'\\]"),
    "missing_array": ({"dict": [["w", {"array": "nope"}]]}, "names the array 'nope'"),
    "value_holding_a_list": ({"dict": [["w", {"value": [1]}]]}, "JSON list as a plain value"),
    "float_key": ({"dict": [[1.5, {"value": 1}]]}, "not a \\[key, value\\] pair"),
    "duplicate_key": ({"dict": [["k", {"value": 1}], ["k", {"value": 2}]]}, "key 'k' twice"),
    "not_a_dict": ({"value": 3}, "describes a int, not a dict"),
    "unused_member": ({"dict": []}, "member 'w.npy' is not part of"),
    "json_100000_deep": ("[" * 100_000 + "]" * 100_000, "nests more than 100 levels"),
    "lists_140_deep": ('{"dict": [["a", ' + '{"list": [' * 140 + ']}' * 140 + "]]}",
                       "nests more than 100 levels at 'a/0/0"),
    "bad_json": ('{"dict": [', "Expecting"),
}


@pytest.mark.parametrize("name", list(CRAFTED_STRUCTURES))
def test_crafted_structure_entries_raise_value_errors(tmp_path, name):
    structure, reason = CRAFTED_STRUCTURES[name]
    path = structure_file(tmp_path / f"{name}.npz", structure, w=np.ones(2))
    with pytest.raises(ValueError, match=f"{name}.npz' is not a valid checkpoint.*{reason}"):
        tg.load(path)


def test_headers_are_checked_against_the_bytes_really_there(tmp_path):
    # a header claiming 2**40 float64s (8 TiB) over 8 bytes of data: refused, not allocated
    lie = io.BytesIO()
    np.lib.format.write_array_header_1_0(lie, {"descr": "<f8", "fortran_order": False,
                                               "shape": (2 ** 40,)})
    path = write_zip(tmp_path / "huge.npz", {"w.npy": lie.getvalue() + bytes(8)})
    with pytest.raises(ValueError, match=r"huge.npz' is not a valid.*claims shape "
                                         r"\(1099511627776,\) of float64 \(8796093022208 bytes\) "
                                         r"but holds 8"):
        tg.load(path)
    short = write_zip(tmp_path / "short.npz", {"w.npy": npy_bytes(np.ones(4))[:-8]})
    with pytest.raises(ValueError, match=r"short.npz'.*\(4,\) of float64 \(32 bytes\) but "
                                         r"holds 24"):
        tg.load(short)
    text = write_zip(tmp_path / "text.npz", {"w.npy": npy_bytes(np.array(["x"]))})
    with pytest.raises(ValueError, match="text.npz'.*dtype <U1, not a numeric one"):
        tg.load(text)


def test_compressed_members_cannot_claim_more_than_deflate_can_unpack(tmp_path):
    # a deflated member whose header and zip entry both claim 2**28 float64s (2 GiB)
    # from a few hundred bytes: refused before anything is allocated
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (2 ** 28,)})
    claimed = len(header.getvalue()) + 8 * 2 ** 28
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("w.npy", header.getvalue() + bytes(64))
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[22:26] = data[central + 24:central + 28] = claimed.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"bomb.npz'.*'w.npy' claims {claimed} bytes, more "
                                         f"than the file"):
        tg.load(path)


def test_damaged_checkpoints_only_ever_raise_value_errors_naming_the_file(tmp_path):
    import random
    rng = random.Random(0)
    model = nn.MLP([2, 3, 2], batchnorm=True)
    opt = tg.optim.Adam(model.parameters())
    nested = tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1},
                     tmp_path / "nested.npz")
    np.savez_compressed(tmp_path / "compressed.npz", **model.state_dict())
    damaged = tmp_path / "damaged.npz"
    for source in (nested, tmp_path / "compressed.npz"):
        data = open(source, "rb").read()
        for _ in range(150):
            copy = bytearray(data)
            if rng.random() < 0.7:
                for _ in range(rng.randint(1, 4)):
                    copy[rng.randrange(len(copy))] = rng.randrange(256)
            else:
                del copy[rng.randrange(len(copy)):]
            damaged.write_bytes(bytes(copy))
            try:
                tg.load(damaged)   # a byte nobody reads (a timestamp) may change harmlessly
            except ValueError as e:
                assert "damaged.npz' is not a valid checkpoint" in str(e)


def test_other_zips_are_not_checkpoints(tmp_path):
    docx = write_zip(tmp_path / "report.docx", {"[Content_Types].xml": b"<Types/>",
                                                "word/document.xml": b"<w:document/>"})
    with pytest.raises(ValueError, match=r"report.docx' is not a valid checkpoint.*"
                                         r"'\[Content_Types\].xml' is not a .npy array"):
        tg.load(docx)


def test_plain_numpy_archives_load(tmp_path):
    np.savez(tmp_path / "p.npz", w=np.arange(3.0), b=np.array(2, dtype=np.int8))
    np.savez_compressed(tmp_path / "c.npz", w=np.zeros((50, 50)))
    plain = tg.load(tmp_path / "p.npz")
    assert list(plain) == ["w", "b"] and plain["b"].dtype == np.int8
    assert tg.load(tmp_path / "c.npz")["w"].shape == (50, 50)


def test_torch_files_are_refused_with_a_way_to_convert_them(tmp_path):
    torch = pytest.importorskip("torch")
    state = {"fc.weight": torch.arange(4.0).reshape(2, 2)}
    modern, legacy = tmp_path / "model.pt", tmp_path / "legacy.pt"
    torch.save(state, modern)
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    for path in (modern, legacy):
        with pytest.raises(ValueError, match=f"{path.name}' is a PyTorch pickle file.*"
                                             f"never unpickles.*np.savez") as error:
            tg.load(path)
        # the advice works as written
        advice = str(error.value).split("in PyTorch: ")[1].split(", then")[0]
        exec(advice.replace("'model.npz'", repr(str(tmp_path / "converted.npz"))),
             {"np": np, "torch": torch})
        assert tg.load(tmp_path / "converted.npz")["fc.weight"].tolist() == [[0, 1], [2, 3]]


# --- the atomic write ------------------------------------------------------------------

posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL, file modes and symlinks")

@pytest.mark.parametrize("where", ["write_array", "fsync", "replace"])
def test_interrupted_save_removes_its_temp_file(tmp_path, monkeypatch, where):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    owner = np.lib.format if where == "write_array" else os
    monkeypatch.setattr(owner, where, interrupt)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"w": np.zeros(10 ** 5)}, path)
    monkeypatch.undo()
    assert files_in(tmp_path) == ["ckpt.npz"]
    assert tg.load(path)["w"].tolist() == [1, 1, 1]


@posix_only
def test_killed_save_leaves_the_old_checkpoint_whole(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    script = ("import numpy as np, tinygrad_edu as tg\n"
              "print('ready', flush=True)\n"
              f"while True: tg.save({{'w': np.zeros(3 * 10 ** 6)}}, {str(path)!r})\n")
    root = os.path.dirname(os.path.dirname(tg.__file__))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    child.stdout.readline()
    time.sleep(0.3)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert tg.load(path)["w"].shape in [(3,), (3 * 10 ** 6,)]   # one or the other, whole


@posix_only
def test_resaving_keeps_the_file_mode_and_new_files_follow_the_umask(tmp_path):
    path = tmp_path / "private.npz"
    tg.save({"w": np.ones(1)}, path)
    os.chmod(path, 0o600)
    tg.save({"w": np.zeros(1)}, path)
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    old = os.umask(0o027)
    try:
        tg.save({"w": np.zeros(1)}, tmp_path / "new.npz")
    finally:
        os.umask(old)
    assert oct(os.stat(tmp_path / "new.npz").st_mode & 0o777) == oct(0o640)


@posix_only
def test_saving_through_a_symlink_writes_the_file_it_points_to(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "epoch3.npz"
    tg.save({"w": np.ones(1)}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    tg.save({"w": np.full(1, 7.0)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert tg.load(target)["w"].tolist() == [7.0]
    assert files_in(tmp_path / "runs") == ["epoch3.npz"]


def test_a_name_at_the_file_system_limit_can_be_saved(tmp_path):
    path = tmp_path / ("m" * 251 + ".npz")   # 255 bytes: no room for a suffix on it
    tg.save({"w": np.ones(2)}, path)
    assert files_in(tmp_path) == [path.name] and tg.load(path)["w"].tolist() == [1, 1]


def test_write_errors_name_the_callers_path_not_the_temp_file(tmp_path, monkeypatch):
    missing = tmp_path / "no_such_dir" / "c.npz"
    with pytest.raises(FileNotFoundError, match=f"save: could not write {str(missing)!r}") as e:
        tg.save({"w": np.ones(1)}, missing)
    assert ".tmp" not in str(e.value)
    path = tmp_path / "c.npz"

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match=f"could not write {str(path)!r}: No space left") as e:
        tg.save({"w": np.ones(1)}, path)
    assert e.value.errno == 28 and ".tmp" not in str(e.value)
    assert files_in(tmp_path) == []
