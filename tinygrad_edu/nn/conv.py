"""Convolution and pooling, as PyTorch's F.conv2d, F.max_pool2d, nn.Conv2d, ...

All of them are compositions: pad, then Unfold (the sliding-window primitive in ops.py)
to lay every window out as a column, then a matmul (convolution), a max (max pooling)
or a mean (average pooling). Backward needs nothing new: Unfold's VJP is Fold, which
adds each window's gradient back where it came from. conv_transpose2d is the adjoint
of conv2d: a matmul, then Fold.

Shapes: input (N, C_in, *spatial) (or unbatched (C_in, *spatial)), weight
(C_out, C_in / groups, *kernel), output (N, C_out, *out) with, per spatial axis,
out = (n + 2 padding - dilation (kernel - 1) - 1) // stride + 1.
The layers (nn.Conv2d, nn.MaxPool2d, ...) are in conv_layers.py.
"""
import math
import numbers

import numpy as np

from .. import ops
from ..shapes import pad
from ..tensor import Tensor, apply, cat, computed, default_generator, python_constant, wrap


# --- arguments ---------------------------------------------------------------------

def tuple_arg(value, d, name, who, minimum=0):
    """An int or a d-tuple of ints (at least `minimum`), as a d-tuple."""
    values = (value,) * d if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != d or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                   for v in values):
        raise TypeError(f"{who}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def batched(input, d, who):
    """(input with a batch axis, whether one was added): d spatial axes plus channels."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == d + 1:
        return input.unsqueeze(0), True
    if input.ndim != d + 2:
        raise RuntimeError(f"{who}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) "
                           f"input, got shape {input.shape}")
    return input, False


def pad_spatial(x, padding, value=0.0):
    """x padded on both sides of each spatial axis; padding = ((left, right), ...) per axis."""
    if not any(p for pair in padding for p in pair):
        return x
    if value == 0:
        # One ScatterAdd into zeros (its VJP is a slice of g) instead of F.pad's Cat with
        # constant blocks: a quarter of the copying, and no zero blocks in the graph.
        inside = tuple(slice(left, left + n) for (left, _), n in zip(padding, x.shape[2:]))
        shape = x.shape[:2] + tuple(n + left + right
                                    for (left, right), n in zip(padding, x.shape[2:]))
        return x._scatter_add_at((slice(None), slice(None)) + inside, shape)
    return pad(x, tuple(p for pair in reversed(padding) for p in pair), value=value)


def windows(x, kernel, stride, dilation, who):
    """Unfold x (N, C, *spatial, padded) -> (N, C, *kernel, *out), checking the sizes."""
    spatial = x.shape[2:]
    if any(dl * (k - 1) + 1 > n for n, k, dl in zip(spatial, kernel, dilation)):
        raise RuntimeError(f"{who}: padded input size per channel {spatial} is smaller than "
                           f"the kernel {kernel} (dilation {dilation}); the kernel can't be "
                           f"greater than the actual input size")
    return apply(ops.unfold, (x,), (kernel, stride, dilation))


# --- unfold / fold --------------------------------------------------------------------

def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C * kh * kw, L), L = the number of windows (oh * ow).

    Column c * kh * kw + i * kw + j of window l is input[c, oh_l * sh + i * dh - ph,
    ow_l * sw + j * dw - pw] (zero outside the input), as torch.nn.functional.unfold.
    """
    x, added = batched(input, 2, "unfold")
    kernel = tuple_arg(kernel_size, 2, "kernel_size", "unfold", 1)
    dilation = tuple_arg(dilation, 2, "dilation", "unfold", 1)
    padding = tuple_arg(padding, 2, "padding", "unfold")
    stride = tuple_arg(stride, 2, "stride", "unfold", 1)
    cols = windows(pad_spatial(x, [(p, p) for p in padding]), kernel, stride, dilation, "unfold")
    n, c = cols.shape[:2]
    out = cols.reshape(n, c * math.prod(kernel), -1)
    return out.squeeze(0) if added else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of unfold: (N, C * kh * kw, L) -> (N, C, *output_size), adding
    overlapping windows, as torch.nn.functional.fold."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fold: input must be a Tensor, got {type(input).__name__}")
    size = tuple_arg(output_size, 2, "output_size", "fold", 1)
    kernel = tuple_arg(kernel_size, 2, "kernel_size", "fold", 1)
    dilation = tuple_arg(dilation, 2, "dilation", "fold", 1)
    padding = tuple_arg(padding, 2, "padding", "fold")
    stride = tuple_arg(stride, 2, "stride", "fold", 1)
    added = input.ndim == 2
    x = input.unsqueeze(0) if added else input
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    out = tuple((n - dl * (k - 1) - 1) // s + 1
                for n, k, s, dl in zip(padded, kernel, stride, dilation))
    k = math.prod(kernel)
    if x.ndim != 3 or x.shape[1] % k or x.shape[2] != math.prod(out) or min(out) < 1:
        raise RuntimeError(f"fold: expected input of shape (N, C * {k}, {math.prod(out)}) "
                           f"for output_size {size}, kernel_size {kernel}, dilation "
                           f"{dilation}, padding {padding}, stride {stride}; got {input.shape}")
    cols = x.reshape((x.shape[0], x.shape[1] // k) + kernel + out)
    y = apply(ops.fold, (cols,), (padded, kernel, stride, dilation))
    y = y[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(padding, size))]
    return y.squeeze(0) if added else y


# --- convolution --------------------------------------------------------------------------

def conv_padding(padding, kernel, dilation, stride, d, who):
    """((left, right), ...) per spatial axis from an int, a tuple, 'valid' or 'same'."""
    if padding == "valid":
        return [(0, 0)] * d
    if padding == "same":
        if set(stride) != {1}:
            raise ValueError(f"{who}: padding='same' is not supported for strided "
                             f"convolutions, got stride {stride}")
        total = [dl * (k - 1) for k, dl in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in total]   # the extra one on the right, as PyTorch
    if isinstance(padding, str):
        raise ValueError(f"{who}: padding must be an int, a tuple, 'valid' or 'same', "
                         f"got {padding!r}")
    return [(p, p) for p in tuple_arg(padding, d, "padding", who)]


def convnd(input, weight, bias, stride, padding, dilation, groups, d, who):
    """y[n, o] = sum over c, i of weight[o, c, i] x_padded[n, g(o) c, o*stride + i*dilation]
    (+ bias[o]): unfold, then one batched matmul per group."""
    x, added = batched(input, d, who)
    if not isinstance(weight, Tensor) or weight.ndim != d + 2:
        raise RuntimeError(f"{who}: weight must be a {d + 2}-D tensor (out_channels, "
                           f"in_channels / groups, *kernel), got "
                           f"{getattr(weight, 'shape', type(weight).__name__)}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise RuntimeError(f"{who}: groups must be a positive int, got {groups!r}")
    c_out, c_per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    if c_out % groups:
        raise RuntimeError(f"{who}: out_channels ({c_out}, weight of shape {weight.shape}) "
                           f"must be divisible by groups={groups}")
    if x.shape[1] != c_per_group * groups:
        raise RuntimeError(f"{who}: groups={groups} and weight of shape {weight.shape} expect "
                           f"input with {c_per_group * groups} channels, got input of shape "
                           f"{input.shape}")
    if bias is not None and bias.shape != (c_out,):
        raise RuntimeError(f"{who}: bias must have shape ({c_out},), got {bias.shape}")
    stride = tuple_arg(stride, d, "stride", who, 1)
    dilation = tuple_arg(dilation, d, "dilation", who, 1)
    pads = conv_padding(padding, kernel, dilation, stride, d, who)
    cols = windows(pad_spatial(x, pads), kernel, stride, dilation, who)
    n, out = x.shape[0], cols.shape[2 + d:]
    # (N, G, C/G * K, L) against (G, C_out/G, C/G * K): matmul broadcasts over N
    cols = cols.reshape(n, groups, c_per_group * math.prod(kernel), math.prod(out))
    w = weight.reshape(groups, c_out // groups, c_per_group * math.prod(kernel))
    y = (w @ cols).reshape((n, c_out) + out)
    if bias is not None:
        y = y + bias.reshape((c_out,) + (1,) * d)
    return y.squeeze(0) if added else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as PyTorch): (N, C_in, L) -> (N, C_out, L_out)."""
    return convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch): (N, C_in, H, W) -> (N, C_out, H', W')."""
    return convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d (in its input): (N, C_in, H, W) -> (N, C_out, H', W') with
    H' = (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1.

    weight: (C_in, C_out / groups, kh, kw). Each input pixel scatters weight-scaled copies
    of the kernel: a matmul gives every window's contribution, Fold adds them up.
    """
    who = "conv_transpose2d"
    x, added = batched(input, 2, who)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise RuntimeError(f"{who}: weight must be a 4-D tensor (in_channels, out_channels / "
                           f"groups, kh, kw), got {getattr(weight, 'shape', weight)}")
    c_in, c_per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1 \
            or c_in % groups:
        raise RuntimeError(f"{who}: groups={groups!r} must be a positive int dividing "
                           f"in_channels ({c_in}, weight of shape {weight.shape})")
    if x.shape[1] != c_in:
        raise RuntimeError(f"{who}: weight of shape {weight.shape} expects input with {c_in} "
                           f"channels, got input of shape {input.shape}")
    c_out = c_per_group * groups
    if bias is not None and bias.shape != (c_out,):
        raise RuntimeError(f"{who}: bias must have shape ({c_out},), got {bias.shape}")
    stride = tuple_arg(stride, 2, "stride", who, 1)
    dilation = tuple_arg(dilation, 2, "dilation", who, 1)
    padding = tuple_arg(padding, 2, "padding", who)
    output_padding = tuple_arg(output_padding, 2, "output_padding", who)
    if any(op >= max(s, dl) for op, s, dl in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{who}: output_padding {output_padding} must be smaller than "
                           f"either stride {stride} or dilation {dilation}")
    n, spatial = x.shape[0], x.shape[2:]
    full = tuple((h - 1) * s + dl * (k - 1) + 1 + op for h, s, dl, k, op
                 in zip(spatial, stride, dilation, kernel, output_padding))
    if any(f - 2 * p < 1 for f, p in zip(full, padding)):
        raise RuntimeError(f"{who}: padding {padding} leaves no output for input of shape "
                           f"{input.shape} and kernel {kernel}")
    k = math.prod(kernel)
    # (G, C_out/G * K, C_in/G) @ (N, G, C_in/G, H W) -> every window's values
    w = weight.reshape(groups, c_in // groups, c_per_group * k).transpose(1, 2)
    cols = w @ x.reshape(n, groups, c_in // groups, math.prod(spatial))
    cols = cols.reshape((n, c_out) + kernel + spatial)
    y = apply(ops.fold, (cols,), (full, kernel, stride, dilation))
    y = y[(Ellipsis,) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    if bias is not None:
        y = y + bias.reshape(c_out, 1, 1)
    return y.squeeze(0) if added else y


# --- pooling ------------------------------------------------------------------------------

def pool_geometry(spatial, kernel, stride, padding, dilation, ceil_mode, who):
    """(output sizes, extra right padding) per axis, with PyTorch's rules: padding at most
    half the kernel; in ceil_mode a last partial window is kept only if it starts inside
    the input or the left padding."""
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{who}: padding {padding} should be at most half of kernel size "
                           f"{kernel}")
    sizes, extra = [], []
    for n, k, s, p, dl in zip(spatial, kernel, stride, padding, dilation):
        span = n + 2 * p - dl * (k - 1) - 1
        if span < 0:
            raise RuntimeError(f"{who}: input of spatial size {tuple(spatial)} (padding "
                               f"{padding}) is smaller than the kernel {kernel} (dilation "
                               f"{dilation})")
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        sizes.append(o)
        extra.append(max((o - 1) * s + dl * (k - 1) + 1 - (n + 2 * p), 0))
    return tuple(sizes), extra


def pool_args(input, kernel_size, stride, padding, dilation, d, who):
    x, added = batched(input, d, who)
    kernel = tuple_arg(kernel_size, d, "kernel_size", who, 1)
    stride = kernel if stride is None or stride == () else tuple_arg(stride, d, "stride", who, 1)
    padding = tuple_arg(padding, d, "padding", who)
    dilation = tuple_arg(dilation, d, "dilation", who, 1)
    return x, added, kernel, stride, padding, dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The largest value of each window; padding counts as -inf. The gradient goes to the
    first maximum of each window, as PyTorch. return_indices=True also gives, per output,
    the flat index h * W + w of that maximum in its (unpadded) input channel (int64)."""
    who = "max_pool2d"
    x, added, kernel, stride, padding, dilation = pool_args(
        input, kernel_size, stride, padding, dilation, 2, who)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{who}: expected a floating-point input, got {x.dtype}")
    out, extra = pool_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode, who)
    padded = pad_spatial(x, [(p, p + e) for p, e in zip(padding, extra)], value=-math.inf)
    # The value at the first maximum of each window (NaN counts as the largest, as
    # PyTorch), gathered by flat index: the gradient goes to that element only, and its
    # ScatterAdd is an assignment where no element is picked twice (windows that do not
    # overlap). Unfolding the windows into the graph instead costs a where, a sum over
    # the window and, in backward, a Fold: 2-3x the time of a CNN's pools.
    # (computed: a compiled step finds each replay's maxima)
    where = computed("K.window_argmax({0}, {1}, {2}, {3})", padded._data, kernel, stride,
                     dilation)
    index = computed("K.window_flat_index({0}, {1}, {2}, {3}, {4})", where, padded.shape,
                     kernel, stride, dilation)
    values = padded.reshape(-1)[index]
    if added:
        values = values.squeeze(0)
    if not return_indices:
        return values
    indices = computed("K.pool_indices({0}, {1}, {2}, {3}, {4}, {5}, {6})", where, kernel,
                       out, stride, padding, dilation, x.shape[3])
    return values, wrap(computed("{0}[0]", indices) if added else indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window. Padding adds zeros; count_include_pad=True divides by the
    window's size within the padded input, False by its part inside the input;
    divisor_override replaces the divisor."""
    who = "avg_pool2d"
    x, added, kernel, stride, padding, dilation = pool_args(
        input, kernel_size, stride, padding, 1, 2, who)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{who}: expected a floating-point input, got {x.dtype}")
    out, extra = pool_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode, who)
    padded = pad_spatial(x, [(p, p + e) for p, e in zip(padding, extra)])
    cols = windows(padded, kernel, stride, dilation, who)
    n, c = x.shape[:2]
    total = cols.reshape((n, c, math.prod(kernel)) + out).sum(2)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{who}: divisor_override must be non-zero")
        divisor = divisor_override
    else:
        divisor = np.outer(*[window_counts(size, k, s, p, o, count_include_pad)
                             for size, k, s, p, o in zip(x.shape[2:], kernel, stride,
                                                         padding, out)])
    y = total / python_constant(np.asarray(divisor, dtype=x.dtype))
    return y.squeeze(0) if added else y


def window_counts(n, k, s, p, out, count_include_pad):
    """How many elements each window along one axis averages (PyTorch's divisors)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)   # a ceil_mode window stops at the padding's end
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def adaptive_avg_pool2d(input, output_size):
    """Means over a grid of output_size cells: cell i along an axis of size n covers
    [floor(i n / out), ceil((i + 1) n / out)). None in output_size keeps that axis."""
    who = "adaptive_avg_pool2d"
    x, added = batched(input, 2, who)
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) or \
        output_size is None else tuple(output_size)
    if len(sizes) != 2:
        raise TypeError(f"{who}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(x.shape[2 + a] if o is None else o for a, o in enumerate(sizes))
    sizes = tuple_arg(sizes, 2, "output_size", who, 1)
    # A rectangle's mean is the mean over rows of the means over columns: one axis at a time.
    for axis, o in zip((2, 3), sizes):
        n = x.shape[axis]
        if n % o == 0:
            shape = x.shape[:axis] + (o, n // o) + x.shape[axis + 1:]
            x = x.reshape(shape).mean(axis + 1)
        else:
            cells = [x[(slice(None),) * axis + (slice(i * n // o, -(-(i + 1) * n // o)),)]
                     .mean(axis, keepdims=True) for i in range(o)]
            x = cat(cells, axis)
    return x.squeeze(0) if added else x


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels with probability p and scale the rest by 1/(1 - p); the input is
    (N, C, H, W), or (N, C, L) (PyTorch reads 3-D input so too, with a warning)."""
    if inplace:
        raise NotImplementedError("dropout2d: inplace=True is not supported; use the result")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"dropout2d: expected a 3-D or 4-D input, got shape {input.shape}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    rng = generator or default_generator()
    # through computed(): a compiled step draws fresh channels from rng on every call
    keep = computed("{0}.random({1}) >= {2}", rng, input.shape[:2] + (1,) * (input.ndim - 2), p)
    return input * wrap(computed("({0} / {1}).astype({2})", keep, 1 - p, input.dtype))
