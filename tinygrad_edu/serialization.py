"""Checkpoints: save(state_dict, path) and load(path), as NumPy .npz archives.

An .npz file is a zip of .npy arrays, one per key. We never use pickle: loading
a checkpoint cannot run code, and object arrays are refused when saving.
Writes are atomic: the archive is written to a temporary file next to the
target and renamed over it only once complete, so a crash or a full disk
never leaves a half-written checkpoint where a good one was.

Paths follow NumPy's convention: save() appends ".npz" to a path that doesn't
end in it (and returns the path it wrote); load() opens exactly the path given.
"""
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor


def save(state_dict, path):
    """Write {name: array or Tensor} to `path` (.npz) atomically. Returns the path written.

    Keys are kept exactly, dots included ("fc1.weight"). Values must be numeric
    or bool arrays (or Tensors, or numbers); anything that would need pickle
    raises a TypeError naming its key, before any file is touched.
    """
    arrays = OrderedDict()
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.hasobject or array.dtype.kind not in "biufc":
            raise TypeError(f"save: the value for key {key!r} has dtype {array.dtype}; only "
                            f"numeric and bool arrays can be saved (no pickle)")
        arrays[key] = array

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


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(path):
    """Read a checkpoint written by save(): an OrderedDict {name: NumPy array}.

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
            return OrderedDict((key, archive[key]) for key in archive.files)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"load: {path!r} is not a valid checkpoint (.npz of numeric "
                         f"arrays): {e}") from None
