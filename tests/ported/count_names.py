"""Count the PyTorch names tinygrad_edu also has: python tests/ported/count_names.py [-v].

For each PyTorch namespace below, the public names (dir() without a leading underscore;
submodules left out: they are namespaces, not features) are split into three lists: the
ones the matching tinygrad_edu namespace also has (same name), the out-of-scope ones
(complex numbers, sparse, quantization, devices and their backends, distributed, jit/fx/
onnx, storage, named tensors, forward mode: what issue 10 puts out of scope), and the
missing ones. Having a name is only the first check: the tests compare behaviour.
"""
import importlib
import re
import sys
import types

NAMESPACES = [   # (PyTorch's, ours)
    ("torch", "tinygrad_edu"),
    ("torch.Tensor", "tinygrad_edu.Tensor"),
    ("torch.nn", "tinygrad_edu.nn"),
    ("torch.nn.functional", "tinygrad_edu.nn.functional"),
    ("torch.optim", "tinygrad_edu.optim"),
    ("torch.optim.lr_scheduler", "tinygrad_edu.optim.lr_scheduler"),
    ("torch.autograd", "tinygrad_edu.autograd"),
    ("torch.special", "tinygrad_edu.special"),
    ("torch.linalg", "tinygrad_edu.linalg"),
]

# Matched against the lower-cased name. Each alternative is one out-of-scope area.
OUT_OF_SCOPE = re.compile("|".join([
    r"complex", r"conj", r"(^|_)real($|_)", r"(^|_)imag($|_)", r"(^|_)angle($|_)", r"polar", r"chalf", r"cfloat", r"cdouble",
    r"sparse", r"coo", r"csr", r"csc", r"bsr", r"bsc", r"to_dense", r"indices$", r"values$",
    r"quant", r"qint", r"quint", r"^q_", r"int_repr", r"fake_", r"per_channel", r"qscheme",
    r"cuda", r"cudnn", r"mps", r"xpu", r"hpu", r"ipu", r"xla", r"mtia", r"vulkan", r"mkldnn",
    r"miopen", r"fbgemm", r"mkl", r"(^|_)hip", r"pin_memory", r"is_pinned", r"record_stream",
    r"distributed", r"rpc", r"sync", r"parallel", r"^jit", r"script", r"^fx", r"onnx", r"^compile", r"compiler",
    r"export", r"storage", r"share_memory", r"is_shared", r"ptr$", r"^nested", r"_nt$",
    r"names?$", r"align_to", r"align_as", r"refine", r"rename", r"dual", r"forward_ad",
    r"^fw", r"^vmap$", r"functorch", r"^func$", r"meta", r"symint", r"symfloat", r"symbool",
    r"^sym_", r"dlpack", r"^deploy", r"^package", r"tensorrt", r"bfloat16", r"float8",
    r"^float4", r"^uint(16|32|64)$", r"^int[14]$", r"^bits", r"^e[45]m", r"_dispatch",
    r"^device", r"stream", r"^event", r"^get_device", r"^set_default_device", r"^lazy",
    r"^use_deterministic", r"deterministic", r"^(set|get)_num", r"threads", r"^cpp",
    r"^classes$", r"^ops$", r"^library", r"^overrides", r"^hub", r"^utils$", r"^backends",
    r"^profiler", r"^testing", r"^return_types", r"^torch_version", r"^version",
    r"^typename$", r"^is_inference", r"inference_mode", r"^mode$", r"^fork$", r"^wait$",
    r"graph", r"^saved_tensors_hooks", r"^allow_mutation", r"^flex_", r"^xnnpack",
    r"^is_available", r"^has_", r"^cpu$",
]))


def split(torch_name, ours_name):
    """(supported, out_of_scope, missing) name lists for one namespace."""
    theirs = _namespace(torch_name)
    ours = _namespace(ours_name)
    supported, out, missing = [], [], []
    for name in sorted(dir(theirs)):
        obj = getattr(theirs, name, None)
        if name.startswith("_") or not is_api(obj, torch_name):
            continue
        if hasattr(ours, name):
            supported.append(name)
        elif OUT_OF_SCOPE.search(name.lower()) or type(obj).__name__ == "pybind11_type":
            # pybind11 classes are TorchScript's and the C++ core's (AliasDb, FunctionSchema)
            out.append(name)
        else:
            missing.append(name)
    return supported, out, missing


def is_api(obj, namespace):
    """Whether `obj`, found in PyTorch's `namespace`, is part of its API rather than an
    import (typing.Callable, functools.partial, torch.Tensor seen from torch.special), a
    flag (TYPE_CHECKING), a docs string (common_notes) or a submodule."""
    if isinstance(obj, (str, bool, dict, list, tuple, types.ModuleType)):
        return False
    if isinstance(obj, float):   # torch.pi, torch.inf; math.inf imported by lr_scheduler
        return namespace == "torch"
    if namespace != "torch" and obj is importlib.import_module("torch").Tensor:
        return namespace == "torch.Tensor"
    module = getattr(obj, "__module__", None)
    return module is None or module.split(".")[0] == "torch"   # None: methods, properties


def _namespace(dotted):
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module, _, attr = dotted.rpartition(".")
        return getattr(importlib.import_module(module), attr)


def main(argv):
    verbose = "-v" in argv
    total = [0, 0, 0]
    print(f"{'namespace':26} {'supported':>9} {'missing':>8} {'out of scope':>13}")
    for torch_name, ours_name in NAMESPACES:
        supported, out, missing = split(torch_name, ours_name)
        for i, n in enumerate((len(supported), len(missing), len(out))):
            total[i] += n
        print(f"{torch_name:26} {len(supported):9} {len(missing):8} {len(out):13}")
        if verbose:
            print("  missing:", " ".join(missing))
    print(f"{'total':26} {total[0]:9} {total[1]:8} {total[2]:13}")


if __name__ == "__main__":
    main(sys.argv[1:])
