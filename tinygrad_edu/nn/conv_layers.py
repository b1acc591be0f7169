"""Convolution and pooling layers, as torch.nn.Conv2d, nn.MaxPool2d, ...: thin Modules
around the functions in conv.py (apart from it because layers.py imports functional.py,
which re-exports conv.py's functions)."""
import math

import numpy as np

from . import init as nn_init
from .conv import (adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, conv_padding,
                   conv_transpose2d, dropout2d, max_pool2d, tuple_arg)
from . import functional as F
from .layers import BatchNorm1d, size_arg
from .module import Module, Parameter


# --- modules --------------------------------------------------------------------------------

class _ConvNd(Module):
    """Shared constructor of Conv1d and Conv2d: PyTorch's arguments and default init."""

    d = 2
    transposed = False
    draw_collapsed = True   # viz.draw_graph draws a conv layer as one node by default

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=np.float64, generator=None):
        super().__init__()
        who = type(self).__name__
        self.in_channels = size_arg(in_channels, "in_channels", who, 1)
        self.out_channels = size_arg(out_channels, "out_channels", who, 1)
        self.groups = size_arg(groups, "groups", who, 1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{who}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{who}: padding_mode={padding_mode!r} is not "
                                      f"supported; only 'zeros'")
        if device not in (None, "cpu"):
            raise NotImplementedError(f"{who}: device={device!r}; only the CPU is supported")
        self.kernel_size = tuple_arg(kernel_size, self.d, "kernel_size", who, 1)
        self.stride = tuple_arg(stride, self.d, "stride", who, 1)
        self.dilation = tuple_arg(dilation, self.d, "dilation", who, 1)
        if isinstance(padding, str):
            conv_padding(padding, self.kernel_size, self.dilation, self.stride, self.d, who)
            self.padding = padding
        else:
            self.padding = tuple_arg(padding, self.d, "padding", who)
        self.padding_mode = padding_mode
        if self.transposed:   # the adjoint's weight: (in, out / groups, k...), as PyTorch
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        nn_init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = nn_init.fan_in_and_fan_out(self.weight)[0]
            bound = 1 / math.sqrt(fan_in)
            nn_init.uniform_(self.bias, -bound, bound, generator)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self.d:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.d:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,) * self.d) != (0,) * self.d:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-D convolution layer, as torch.nn.Conv1d: weight (out, in / groups, k), bias (out,);
    both ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in / groups * k."""

    d = 1

    def forward(self, input):
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class Conv2d(_ConvNd):
    """2-D convolution layer, as torch.nn.Conv2d: weight (out, in / groups, kh, kw), bias
    (out,); both ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in / groups * kh * kw."""

    d = 2

    def forward(self, input):
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class _ConvTransposeNd(_ConvNd):
    """Shared constructor of ConvTranspose1d and ConvTranspose2d: PyTorch's arguments (note
    the order: output_padding after padding, dilation after bias) and default init, with
    fan_in = out / groups * k (the weight's second axis, as torch computes it)."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=np.float64, generator=None):
        who = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {who}')
        if isinstance(padding, str):   # PyTorch accepts it here, then fails in forward
            raise ValueError(f"{who}: padding={padding!r}: a transposed convolution takes "
                             f"int or tuple padding")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, generator)
        self.output_padding = tuple_arg(output_padding, self.d, "output_padding", who)
        if any(p >= max(s, dl) for p, s, dl in zip(self.output_padding, self.stride,
                                                    self.dilation)):
            raise ValueError(f"{who}: output_padding {self.output_padding} must be smaller "
                             f"than either stride {self.stride} or dilation {self.dilation}")

    def _output_padding(self, input, output_size):
        """output_padding, or the one that makes the output `output_size` (the spatial
        sizes, optionally after the batch and channel sizes), as PyTorch's forward."""
        if output_size is None:
            return self.output_padding
        who, d = type(self).__name__, self.d
        output_size = list(output_size)
        non_spatial = input.ndim - d
        if len(output_size) == non_spatial + d:
            output_size = output_size[non_spatial:]
        if len(output_size) != d:
            raise ValueError(f"{who}: for {input.ndim}-D input, output_size must have {d} or "
                             f"{non_spatial + d} elements (got {len(output_size)})")
        low = [(input.shape[non_spatial + i] - 1) * self.stride[i] - 2 * self.padding[i]
               + self.dilation[i] * (self.kernel_size[i] - 1) + 1 for i in range(d)]
        high = [m + s - 1 for m, s in zip(low, self.stride)]
        if not all(m <= size <= h for m, size, h in zip(low, output_size, high)):
            raise ValueError(f"{who}: requested an output size of {output_size}, but valid "
                             f"sizes range from {low} to {high} (for an input of spatial "
                             f"shape {input.shape[non_spatial:]})")
        return tuple(size - m for size, m in zip(output_size, low))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution layer, as torch.nn.ConvTranspose1d: F.conv_transpose1d
    with weight (in, out / groups, k) and bias (out,), both ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = out / groups * k. (N, C_in, L) -> (N, C_out, L') with
    L' = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""

    d = 1

    def forward(self, input, output_size=None):
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution layer, as torch.nn.ConvTranspose2d: F.conv_transpose2d
    with weight (in, out / groups, kh, kw) and bias (out,), both ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = out / groups * kh * kw. (N, C_in, H, W) -> (N, C_out, H',
    W') with H' = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1."""

    d = 2

    def forward(self, input, output_size=None):
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class MaxPool2d(Module):
    """F.max_pool2d as a layer."""

    draw_collapsed = True   # pad, unfold, reshape, reduce: one idea, one node

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """F.avg_pool2d as a layer."""

    draw_collapsed = True   # pad, unfold, reshape, reduce: one idea, one node

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"



class MaxPool1d(MaxPool2d):
    """F.max_pool1d as a layer: (N, C, L) -> (N, C, L_out)."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(AvgPool2d):
    """F.avg_pool1d as a layer: (N, C, L) -> (N, C, L_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):   # PyTorch's AvgPool1d has no divisor_override
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

class AdaptiveAvgPool2d(Module):
    """F.adaptive_avg_pool2d as a layer."""

    draw_collapsed = True   # pad, unfold, reshape, reduce: one idea, one node

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation over (N, C, H, W), as torch.nn.BatchNorm2d: statistics per channel
    over N, H and W. The same computation as BatchNorm1d on (N, C, H * W)."""

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected input of shape (N, {self.num_features}, "
                             f"H, W), got {x.shape}")
        if (self.training or not self.track_running_stats) and x.numel() // x.shape[1] < 2:
            raise ValueError(f"BatchNorm2d: training mode needs more than one value per "
                             f"channel, got input of shape {x.shape}")
        return super().forward(x.reshape(x.shape[:2] + (-1,))).reshape(x.shape)


class Dropout2d(Module):
    """F.dropout2d as a layer: zero whole channels in training."""

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: p must be in [0, 1], got {p}")
        if inplace:
            raise NotImplementedError("Dropout2d: inplace=True is not supported")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, input):
        return dropout2d(input, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
