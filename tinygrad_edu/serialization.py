"""Checkpoints: save(state_dict, path) and load(path), as NumPy .npz archives
or, for a path ending in ".safetensors", in the safetensors format PyTorch users share.

An .npz file is a zip of .npy arrays, one per key. We never use pickle: loading
a checkpoint cannot run code, and object arrays are refused when saving.
Writes are atomic: the archive is written to a temporary file next to the
target and renamed over it only once complete, so a crash or a full disk
never leaves a half-written checkpoint where a good one was.

A flat {name: array} dict (what Module.state_dict() returns) is stored as one
.npy entry per key, readable by plain np.load. Anything nested, such as
{"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 5},
stores each array as an entry named by its path ("optimizer/state/0/exp_avg")
plus one JSON text entry describing the nesting, the exact keys and the plain
values (numbers, strings, None): load() rebuilds the same dicts, lists and
tuples. A flat dict whose keys a zip member name cannot carry exactly (a NUL
byte, a key ending in ".npy", which np.load would confuse with another key)
is stored that way too, so every string key comes back exactly.

load() reads only what save() or np.savez writes: a zip of .npy members of
numeric dtypes. It reads each .npy header itself and checks what the header
claims against the bytes really there before allocating anything, so a
crafted file raises a ValueError naming it, never a MemoryError.

Paths follow NumPy's convention: save() appends ".npz" to a path that doesn't
end in it (and returns the path it wrote); load() opens exactly the path given.

safetensors (Hugging Face's format: a JSON header of names, dtypes and shapes, then
the raw bytes; no code runs on loading) is the interchange with PyTorch: a flat
state dict saved here as "model.safetensors" loads there with
model.load_state_dict(safetensors.torch.load_file(path)), and a file written there
with safetensors.torch.save_file(model.state_dict(), path) loads here. It needs the
optional `safetensors` package (pip install safetensors), imported only when used.
"""
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

# The entry that describes a nested checkpoint (absent from flat ones).
STRUCTURE_KEY = "__structure__"
# How many levels of dicts, lists and tuples a checkpoint may nest (the top dict is level 1).
MAX_DEPTH = 100
# Deflate cannot expand data more than about 1032-fold, so a compressed member
# claiming more is lying about its size (the slack covers tiny members).
_MAX_INFLATION = 1032
_INFLATION_SLACK = 1024
# Longer names go into the JSON structure only; a zip name must fit in 64 KiB.
_MAX_MEMBER_NAME = 1024
_NUMERIC_KINDS = "biufc"

SAFETENSORS_SUFFIX = ".safetensors"
SAFETENSORS_INSTALL = "pip install safetensors  (or: pip install 'tinygrad_edu[safetensors]')"
# The NumPy dtypes the safetensors format has a code for (bfloat16 and the float8s have
# no NumPy dtype; complex128 and float128 have no safetensors code).
_SAFETENSORS_DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                       "int64", "uint64", "float16", "float32", "float64", "complex64")
_SAFETENSORS_CODES = ("BOOL", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64",
                      "F16", "F32", "F64", "C64")   # the same dtypes, as the header names them
# The header name safetensors reserves for its string metadata.
_SAFETENSORS_METADATA = "__metadata__"


def save(state_dict, path):
    """Write {name: array or Tensor} to `path` (.npz, or .safetensors) atomically.
    Returns the path written.

    Keys are kept exactly, dots included ("fc1.weight"). Values must be numeric
    or bool arrays (or Tensors, or numbers); anything that would need pickle
    raises a TypeError naming its key, before any file is touched. Values may
    also be dicts, lists and tuples of these (and of None and strings), as in an
    optimizer's state_dict(), nested at most MAX_DEPTH levels: see the module
    docstring. Saving through a symlink rewrites the file it points to; an
    existing file keeps its permissions.

    A path ending in ".safetensors" writes that format instead (needs the
    safetensors package): flat {name: array} dicts only, as PyTorch's
    load_state_dict expects; the path is used exactly as given.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict such as model.state_dict(), "
                        f"got {type(state_dict).__name__}")
    for key in state_dict:
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r} "
                            f"({type(key).__name__})")
    path = os.fspath(path)
    if path.endswith(SAFETENSORS_SUFFIX):
        return _save_safetensors(state_dict, path)
    arrays = OrderedDict()   # zip member name (without ".npy") -> array
    if all(_is_array_like(v) for v in state_dict.values()) and \
            all(_plain_member_name(k, ()) for k in state_dict):
        for key, value in state_dict.items():
            arrays[key] = _plain_array(value, key)
    else:
        structure = _encode(state_dict, "", arrays, 1, set())
        arrays[STRUCTURE_KEY] = np.array(json.dumps(structure))
    if not path.endswith(".npz"):
        path += ".npz"   # as np.savez does
    _write_atomically(path, lambda f: _write_npz(f, arrays))
    return path


def _is_array_like(value):
    return isinstance(value, (np.ndarray, Tensor, np.generic, int, float, complex))


def _plain_array(value, key):
    array = np.asarray(value._data if isinstance(value, Tensor) else value)
    if array.dtype.hasobject or array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"save: the value for key {key!r} has dtype {array.dtype}; only "
                        f"numeric and bool arrays can be saved (no pickle)")
    return array


def _plain_member_name(name, used):
    """Whether `name` + ".npy" can be a zip member that np.load reads back as exactly `name`.

    The zip format cuts a name at a NUL byte (and zipfile rewrites os.sep);
    np.load looks "a.npy" up as the member of key "a"; names must be UTF-8.
    """
    if name == STRUCTURE_KEY or name.endswith(".npy") or name in used:
        return False
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate
        return False
    member = name + ".npy"
    return len(encoded) <= _MAX_MEMBER_NAME and zipfile.ZipInfo(member).filename == member


def _member_name(path, used):
    """The path itself where it is a plain member name, else a numbered one (the
    structure keeps the exact path either way)."""
    if _plain_member_name(path, used):
        return path
    number = len(used)
    while str(number) in used:
        number += 1
    return str(number)


def _encode(value, path, arrays, depth, enclosing):
    """A JSON-able description of `value`; its arrays go into `arrays`.

    `depth` is the nesting level of `value`, `enclosing` the ids of the containers
    around it: a container inside itself would otherwise recurse forever.
    """
    if isinstance(value, (np.ndarray, Tensor)):
        name = _member_name(path, arrays)
        arrays[name] = _plain_array(value, path)
        return {"array": name}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if not isinstance(value, (dict, list, tuple)):
        raise TypeError(f"save: the value for key {path!r} is a {type(value).__name__}; "
                        f"only arrays, Tensors, numbers, strings, None and dicts, lists or "
                        f"tuples of them can be saved (no pickle)")
    where = repr(path) if path else "the top level"
    if id(value) in enclosing:
        raise ValueError(f"save: the {type(value).__name__} at {where} contains itself; a "
                         f"checkpoint must be a tree of dicts, lists and tuples, not a cycle")
    if depth > MAX_DEPTH:
        raise ValueError(f"save: the {type(value).__name__} at {where} is nested more than "
                         f"{MAX_DEPTH} levels deep (the limit of a checkpoint)")
    enclosing.add(id(value))
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be strings or integers, got {key!r} "
                                f"({type(key).__name__}) at {where}")
        node = {"dict": [[k, _encode(v, _child(path, k), arrays, depth + 1, enclosing)]
                         for k, v in value.items()]}
    else:
        node = {"tuple" if isinstance(value, tuple) else "list":
                [_encode(v, _child(path, i), arrays, depth + 1, enclosing)
                 for i, v in enumerate(value)]}
    enclosing.discard(id(value))
    return node


def _child(path, key):
    return f"{path}/{key}" if path else str(key)


def _write_atomically(path, write):
    """Call write(f) on a temporary file next to `path`, then rename it over `path`.

    Every error names `path`, the file the caller asked for, not the temporary
    one; the temporary file is removed whatever interrupts the write.
    """
    target = os.path.realpath(path)   # through a symlink: rewrite its target, keep the link
    tmp = None
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = None
        fd, tmp = _create_temp(target, 0o600 if mode is not None else 0o666)
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(tmp, mode)   # the umask must not narrow an existing file's mode
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        message = f"save: could not write {path!r}: {e.strerror or e}"
        raise (OSError(e.errno, message) if e.errno is not None else OSError(message)) from None
    finally:
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass   # the error that stopped the write matters more


def _write_npz(f, arrays):
    """The layout np.savez writes, done by hand so that any key works (np.savez's own
    keyword arguments, such as "file", would clash)."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _create_temp(target, mode):
    """Create a new, empty, hidden file next to `target`: (fd, path).

    The name is short, so a target name near the 255-byte limit still leaves
    room, and the file is created with `mode` filtered by the umask, as open()
    does: no process-wide umask change, which other threads would see.
    """
    directory, base = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base[:20]}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue   # another save picked the same random name


# --- safetensors -----------------------------------------------------------------------

def _require_safetensors(caller):
    """The safetensors package (its NumPy API), or an ImportError saying how to install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ModuleNotFoundError(
            f"{caller}: the .safetensors format needs the safetensors package: "
            f"{SAFETENSORS_INSTALL}; a path ending in .npz needs nothing extra") from None
    return safetensors


def _save_safetensors(state_dict, path):
    """A flat {name: array} dict as a .safetensors file at exactly `path`."""
    safetensors = _require_safetensors("save")
    arrays = OrderedDict()
    for key, value in state_dict.items():
        if not _is_array_like(value):
            raise TypeError(f"save: the value for key {key!r} is a {type(value).__name__}; a "
                            f".safetensors file holds a flat {{name: array}} dict such as "
                            f"model.state_dict() (save nested checkpoints, such as an "
                            f"optimizer's state, to a .npz path)")
        if key == _SAFETENSORS_METADATA:
            raise ValueError(f"save: the key {key!r} is reserved by the safetensors format "
                             f"for its metadata; rename it, or save to a .npz path")
        array = _plain_array(value, key)
        if array.dtype.name not in _SAFETENSORS_DTYPES:
            raise TypeError(f"save: the value for key {key!r} has dtype {array.dtype}, which "
                            f"the safetensors format cannot store; save it to a .npz path")
        # not np.ascontiguousarray: it makes a 0-d array 1-d (num_batches_tracked is 0-d)
        arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
    data = safetensors.numpy.save(arrays)
    _write_atomically(path, lambda f: f.write(data))
    return path


def _looks_like_safetensors(head):
    """A little-endian u64 header length, then the JSON header's opening brace."""
    return len(head) >= 9 and head[8:9] == b"{"


def _load_safetensors(path):
    safetensors = _require_safetensors("load")
    try:
        with safetensors.safe_open(path, framework="numpy") as f:
            keys = list(f.keys())
            for key in keys:
                code = f.get_slice(key).get_dtype()
                if code not in _SAFETENSORS_CODES:
                    raise ValueError(
                        f"its tensor {key!r} has dtype {code}, which NumPy cannot hold; "
                        f"convert it in PyTorch first, e.g. {{k: v.float() for k, v in "
                        f"safetensors.torch.load_file(path).items()}}")
            return OrderedDict((key, f.get_tensor(key)) for key in keys)
    except (safetensors.SafetensorError, ValueError, OSError) as e:
        raise ValueError(f"load: {path!r} is not a valid .safetensors file: {e}") from None


# --- loading ---------------------------------------------------------------------------

class _PickleFile(Exception):
    """Raised inside load() for a file that only an unpickler could read."""


def load(path):
    """Read a checkpoint written by save(): an OrderedDict {name: NumPy array}, or
    for a nested checkpoint the same nesting of dicts, lists and tuples.

    A .safetensors file (recognised by its name or its header; needs the
    safetensors package) gives {name: array} in the file's key order (sorted).

    Plain np.savez / np.savez_compressed files of numeric arrays load too.
    A missing file raises FileNotFoundError; anything else that is not such an
    archive (truncated, corrupted, pickled objects, a .docx, a header claiming
    more data than the file holds) raises a ValueError naming the file, and a
    torch.save file one saying how to convert it.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        if path.endswith(SAFETENSORS_SUFFIX) or _looks_like_safetensors(f.read(9)):
            return _load_safetensors(path)
        f.seek(0)
        try:
            return _read_archive(f, os.fstat(f.fileno()).st_size)
        except _PickleFile as e:
            raise ValueError(
                f"load: {path!r} is a PyTorch pickle file ({e}); tinygrad_edu never "
                f"unpickles, because loading a pickle can run arbitrary code. Convert it "
                f"once, in PyTorch: np.savez('model.npz', **{{k: v.detach().cpu().numpy() "
                f"for k, v in torch.load({path!r}).items()}}), then tg.load('model.npz'); or, "
                f"with safetensors: safetensors.torch.save_file(torch.load({path!r}), "
                f"'model.safetensors')"
            ) from None
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError,
                struct.error, zlib.error) as e:
            raise ValueError(f"load: {path!r} is not a valid checkpoint (.npz of numeric "
                             f"arrays): {e}") from None


def _read_archive(f, size):
    head = f.read(len(np.lib.format.MAGIC_PREFIX))
    f.seek(0)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:   # pickle protocols 2-5
        raise _PickleFile("torch.save's legacy format, or another pickle")
    if head == np.lib.format.MAGIC_PREFIX:
        raise ValueError("it holds a single array (.npy), not an .npz archive")
    with zipfile.ZipFile(f) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
            raise _PickleFile("a zip with data.pkl, as torch.save writes")
        for name in names:
            if not name.endswith(".npy"):
                raise ValueError(f"its member {name!r} is not a .npy array, so this is not "
                                 f"an .npz that save() or np.savez wrote")
        if len(set(names)) != len(names):
            raise ValueError("two members have the same name")
        if sum(info.compress_size for info in infos) > size:
            raise ValueError(f"its members claim more bytes than the file's {size}")
        arrays = OrderedDict()
        for info in infos:
            name = info.filename[:-len(".npy")]
            arrays[name] = _read_member(archive, info, size, text=name == STRUCTURE_KEY)
    if STRUCTURE_KEY not in arrays:
        return arrays
    return _decode_structure(arrays.pop(STRUCTURE_KEY), arrays)


def _read_member(archive, info, size, text):
    """One .npy member, its header checked against the member's real size before the
    array is allocated. `text`: the structure entry, the one non-numeric member."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise ValueError(f"its member {name!r} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        limit = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:   # np.savez_compressed
        limit = _MAX_INFLATION * info.compress_size + _INFLATION_SLACK
    else:
        raise ValueError(f"its member {name!r} uses zip compression method "
                         f"{info.compress_type}, which np.savez never writes")
    if info.header_offset + info.compress_size > size or info.file_size > limit:
        raise ValueError(f"its member {name!r} claims {info.file_size} bytes, more than "
                         f"the file ({size} bytes) can hold")
    with archive.open(info) as entry:
        version = np.lib.format.read_magic(entry)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(entry)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(entry)
        else:
            raise ValueError(f"its member {name!r} is a .npy of format version {version}, "
                             f"which np.save writes only for non-numeric dtypes")
        if dtype.hasobject:
            raise ValueError(f"its member {name!r} holds Python objects, which only pickle "
                             f"can read (load never unpickles: allow_pickle=False)")
        if dtype.kind not in ("U" if text else _NUMERIC_KINDS) or dtype.fields is not None:
            raise ValueError(f"its member {name!r} has dtype {dtype}, not "
                             f"{'text' if text else 'a numeric one'}")
        if any(d < 0 for d in shape):
            raise ValueError(f"its member {name!r} claims shape {shape}")
        claimed = math.prod(shape) * dtype.itemsize
        held = info.file_size - entry.tell()
        if claimed != held:
            raise ValueError(f"its member {name!r} claims shape {shape} of {dtype} "
                             f"({claimed} bytes) but holds {held} bytes of data")
        entry.seek(0)
        return np.lib.format.read_array(entry, allow_pickle=False)


# A JSON string (escapes included) or one bracket: what _json_depth counts.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}]')


def _json_depth(text):
    """How deeply `text` nests JSON arrays and objects, found without parsing it:
    json.loads recurses, and a crafted file nesting 100,000 levels would overflow."""
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _decode_structure(entry, arrays):
    if entry.ndim != 0:
        raise ValueError(f"its {STRUCTURE_KEY!r} entry is not one JSON text")
    text = str(entry)
    # _encode's deepest node: 3 JSON levels ({"dict": [[key, ...) per container level
    if _json_depth(text) > 3 * MAX_DEPTH + 1:
        raise ValueError(f"its {STRUCTURE_KEY!r} entry nests more than {MAX_DEPTH} levels")
    unused = set(arrays)
    tree = _decode(json.loads(text), "", arrays, unused, 0)
    if not isinstance(tree, dict):
        raise ValueError(f"its {STRUCTURE_KEY!r} entry describes a "
                         f"{type(tree).__name__}, not a dict")
    if unused:
        raise ValueError(f"its member {min(unused) + '.npy'!r} is not part of the "
                         f"checkpoint's structure")
    return tree


def _decode(node, path, arrays, unused, depth):
    """Rebuild what _encode described, checking every node (the JSON may be crafted)."""
    where = repr(path) if path else "the top level"
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"its structure at {where} is not a one-entry JSON object, as "
                         f"save() writes")
    (kind, body), = node.items()
    if kind == "array":
        if not isinstance(body, str) or body not in unused:   # absent or used twice
            raise ValueError(f"its structure at {where} names the array {body!r}, which is "
                             f"not a member or is named twice")
        unused.discard(body)
        return arrays[body]
    if kind == "value":
        if body is not None and not isinstance(body, (bool, int, float, str)):
            raise ValueError(f"its structure at {where} holds a JSON {type(body).__name__} "
                             f"as a plain value")
        return body
    if kind not in ("dict", "list", "tuple") or not isinstance(body, list):
        raise ValueError(f"its structure at {where} is {kind!r}: {type(body).__name__}; "
                         f"expected array, value, dict, list or tuple")
    if depth >= MAX_DEPTH:
        raise ValueError(f"its structure nests more than {MAX_DEPTH} levels at {where}")
    if kind != "dict":
        items = [_decode(v, _child(path, i), arrays, unused, depth + 1)
                 for i, v in enumerate(body)]
        return tuple(items) if kind == "tuple" else items
    result = OrderedDict()
    for pair in body:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))
                and not isinstance(pair[0], bool)):
            raise ValueError(f"its structure at {where} has a dict item {pair!r} that is "
                             f"not a [key, value] pair with a string or integer key")
        key, value = pair
        if key in result:
            raise ValueError(f"its structure at {where} has the key {key!r} twice")
        result[key] = _decode(value, _child(path, key), arrays, unused, depth + 1)
    return result
