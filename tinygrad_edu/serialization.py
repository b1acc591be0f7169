"""Checkpoints: save(state_dict, path) and load(path), as NumPy .npz archives.

An .npz file is a zip of .npy arrays, one per key. We never use pickle: loading
a checkpoint cannot run code, and object arrays are refused when saving.
Writes are atomic: the archive is written to a temporary file next to the
target and renamed over it only once complete, so a crash or a full disk
never leaves a half-written checkpoint where a good one was.

A flat {name: array} dict (what Module.state_dict() returns) is stored as one
.npy entry per key, readable by plain np.load. Anything nested, such as
{"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 5},
stores each array as an entry named by its path ("optimizer/state/0/exp_avg")
plus one JSON text entry describing the nesting and the plain values (numbers,
strings, None): load() rebuilds the same dicts, lists and tuples.

Paths follow NumPy's convention: save() appends ".npz" to a path that doesn't
end in it (and returns the path it wrote); load() opens exactly the path given.
"""
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

# The entry that describes a nested checkpoint (absent from flat ones).
STRUCTURE_KEY = "__structure__"


def save(state_dict, path):
    """Write {name: array or Tensor} to `path` (.npz) atomically. Returns the path written.

    Keys are kept exactly, dots included ("fc1.weight"). Values must be numeric
    or bool arrays (or Tensors, or numbers); anything that would need pickle
    raises a TypeError naming its key, before any file is touched. Values may
    also be dicts, lists and tuples of these (and of None and strings), as in an
    optimizer's state_dict(): see the module docstring.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict such as model.state_dict(), "
                        f"got {type(state_dict).__name__}")
    for key in state_dict:
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}")
        if key == STRUCTURE_KEY:
            raise ValueError(f"save: the key {STRUCTURE_KEY!r} is reserved")
    arrays = OrderedDict()
    if all(_is_array_like(v) for v in state_dict.values()):
        for key, value in state_dict.items():
            arrays[key] = _plain_array(value, key)
    else:
        structure = _encode(state_dict, "", arrays)
        arrays[STRUCTURE_KEY] = np.array(json.dumps(structure))

    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"   # as np.savez does
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            # The layout np.savez writes, done by hand so that any key works
            # (np.savez's own keyword arguments, such as "file", would clash).
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for key, array in arrays.items():
                    with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                        np.lib.format.write_array(entry, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes it private; use normal permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _is_array_like(value):
    return isinstance(value, (np.ndarray, Tensor, np.generic, int, float, complex))


def _plain_array(value, key):
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.hasobject or array.dtype.kind not in "biufc":
        raise TypeError(f"save: the value for key {key!r} has dtype {array.dtype}; only "
                        f"numeric and bool arrays can be saved (no pickle)")
    return array


def _encode(value, path, arrays):
    """A JSON-able description of `value`; its arrays go into `arrays` under their path."""
    if isinstance(value, (np.ndarray, Tensor)):
        name = path
        while name in arrays:   # keys holding "/" could repeat a path: keep every array
            name += "_"
        arrays[name] = _plain_array(value, path)
        return {"array": name}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be strings or integers, got {key!r} "
                                f"at {path or 'the top level'!r}")
        return {"dict": [[k, _encode(v, f"{path}/{k}" if path else str(k), arrays)]
                         for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, f"{path}/{i}" if path else str(i), arrays)
                 for i, v in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    raise TypeError(f"save: the value for key {path!r} is a {type(value).__name__}; only "
                    f"arrays, Tensors, numbers, strings, None and dicts, lists or tuples "
                    f"of them can be saved (no pickle)")


def _decode(node, archive):
    """Rebuild what _encode described, reading arrays from the open archive."""
    if "array" in node:
        return archive[node["array"]]
    if "value" in node:
        return node["value"]
    if "dict" in node:
        return OrderedDict((k, _decode(v, archive)) for k, v in node["dict"])
    items = [_decode(v, archive) for v in node.get("list", node.get("tuple", []))]
    return tuple(items) if "tuple" in node else items


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(path):
    """Read a checkpoint written by save(): an OrderedDict {name: NumPy array}, or
    for a nested checkpoint the same nesting of dicts, lists and tuples.

    A missing file raises FileNotFoundError; a file that is not a readable .npz
    archive of plain arrays (truncated, corrupted, pickled objects) raises a
    ValueError naming the file.
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array (.npy), not an .npz archive")
        with archive:
            if STRUCTURE_KEY in archive.files:
                return _decode(json.loads(str(archive[STRUCTURE_KEY])), archive)
            return OrderedDict((key, archive[key]) for key in archive.files)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError,
            TypeError) as e:
        raise ValueError(f"load: {path!r} is not a valid checkpoint (.npz of numeric "
                         f"arrays): {e}") from None
