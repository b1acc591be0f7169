"""Convolution and pooling (nn/conv.py, nn/conv_layers.py) against PyTorch in float64,
finite differences, and the Unfold/Fold adjoint pair."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import ops
from tinygrad_edu.check import gradcheck, gradgradcheck
from tinygrad_edu.tensor import apply

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def torch_or_skip():
    return pytest.importorskip("torch")


def compare(ours_fn, torch_fn, arrays, atol=1e-10):
    """Values and every input's gradient (for one random output gradient) agree."""
    torch = torch_or_skip()
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=atol)
    g = normal(*y.shape)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    for a, ta in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), atol=atol)


# --- the primitive pair -------------------------------------------------------------------

@pytest.mark.parametrize("kernel, stride, dilation, shape", [
    ((3,), (1,), (1,), (2, 3, 9)),
    ((2, 3), (1, 2), (2, 1), (2, 3, 7, 8)),
    ((2, 2, 2), (2, 1, 1), (1, 1, 2), (1, 2, 5, 4, 6)),   # N-D falls out
])
def test_unfold_and_fold_are_adjoint(kernel, stride, dilation, shape):
    """<unfold x, c> = <x, fold c> for all x, c: each is the other's transpose."""
    x = tg.tensor(normal(*shape))
    cols = apply(ops.unfold, (x,), (kernel, stride, dilation))
    c = tg.tensor(normal(*cols.shape))
    back = apply(ops.fold, (c,), (shape[-len(kernel):], kernel, stride, dilation))
    assert back.shape == shape
    np.testing.assert_allclose((cols.numpy() * c.numpy()).sum(), (x.numpy() * back.numpy()).sum())


def test_unfold_picks_the_windows():
    x = np.arange(2 * 7 * 8, dtype=float).reshape(1, 2, 7, 8)
    cols = apply(ops.unfold, (tg.tensor(x),), ((2, 3), (2, 1), (1, 2))).numpy()
    for i, j, oh, ow in [(0, 0, 0, 0), (1, 2, 2, 3), (1, 1, 1, 0)]:
        np.testing.assert_array_equal(cols[0, :, i, j, oh, ow], x[0, :, oh * 2 + i, ow + 2 * j])


def test_unfold_result_owns_its_memory():
    x = tg.tensor(normal(1, 1, 4, 4))
    cols = apply(ops.unfold, (x,), ((2, 2), (1, 1), (1, 1)))
    assert cols.numpy().base is None and cols.numpy().flags.writeable


def test_the_pair_has_gradients_of_every_order():
    x = tg.tensor(normal(1, 2, 5, 4), requires_grad=True)
    assert gradcheck(lambda x: apply(ops.unfold, (x,), ((2, 2), (2, 1), (1, 2))) ** 2, [x])
    c = tg.tensor(normal(1, 2, 2, 2, 2, 2), requires_grad=True)
    assert gradgradcheck(lambda c: apply(ops.fold, (c,), ((5, 4), (2, 2), (2, 1), (1, 2))) ** 2,
                         [c])


def test_fold_rejects_windows_that_do_not_fit():
    c = tg.tensor(normal(1, 1, 3, 3, 4, 4))
    with pytest.raises(ValueError, match="Fold.*do not fit"):
        apply(ops.fold, (c,), ((5, 5), (3, 3), (1, 1), (1, 1)))


def test_the_graph_records_only_the_pair_and_table_rows():
    x = tg.tensor(normal(2, 4, 6, 6), requires_grad=True)
    w = tg.tensor(normal(4, 2, 3, 3), requires_grad=True)
    y = F.conv2d(x, w, padding=1, groups=2) + F.max_pool2d(x, 2).sum() + F.avg_pool2d(x, 3, 1, 1)
    names = {t._op.name for t in tg.autograd.walk([y]) if t._op is not None}
    assert "Unfold" in names and names <= {op.name for op in ops.PRIMITIVES}


# --- F.unfold / F.fold ------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2),
                                dict(kernel_size=3, padding=1, dilation=2),
                                dict(kernel_size=(3, 1), padding=(1, 0), stride=(1, 2))])
def test_unfold_fold_match_torch(kw):
    torch = torch_or_skip()
    x = normal(2, 3, 7, 8)
    compare(lambda t: F.unfold(t, **kw), lambda t: torch.nn.functional.unfold(t, **kw), [x])
    cols = torch.nn.functional.unfold(torch.tensor(x), **kw).numpy()
    compare(lambda t: F.fold(t, (7, 8), **kw), lambda t: torch.nn.functional.fold(t, (7, 8), **kw),
            [cols])


def test_unfold_unbatched_and_fold_bad_shape():
    torch = torch_or_skip()
    x = normal(3, 5, 5)
    compare(lambda t: F.unfold(t, 2), lambda t: torch.nn.functional.unfold(t, 2), [x])
    with pytest.raises(RuntimeError, match=r"fold: expected input of shape \(N, C \* 4, 16\)"):
        F.fold(tg.tensor(normal(1, 8, 15)), (5, 5), 2)


# --- convolution ----------------------------------------------------------------------------

CONV2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=1),
    dict(padding=(2, 0), dilation=(1, 2)),
    dict(padding=1, groups=2),
    dict(stride=3, padding=2, dilation=2, groups=4),
    dict(padding="same", dilation=(2, 1)),
    dict(padding="valid"),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")   # torch's note on a copy it makes
@pytest.mark.parametrize("kw", CONV2D_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(kw, bias):
    torch = torch_or_skip()
    groups = kw.get("groups", 1)
    arrays = [normal(2, 4, 9, 7), normal(6 if groups != 4 else 8, 4 // groups, 3, 2)]
    if bias:
        arrays.append(normal(arrays[1].shape[0]))
    compare(lambda *t: F.conv2d(*t, **kw), lambda *t: torch.nn.functional.conv2d(*t, **kw),
            arrays)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=3),
                                dict(padding="same", groups=3), dict(stride=2, groups=3)],
                         ids=str)
def test_conv1d_matches_torch(kw):
    torch = torch_or_skip()
    compare(lambda *t: F.conv1d(*t, **kw), lambda *t: torch.nn.functional.conv1d(*t, **kw),
            [normal(3, 6, 11), normal(9, 6 // kw.get("groups", 1), 4), normal(9)])


def test_conv2d_unbatched_input():
    torch = torch_or_skip()
    compare(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: torch.nn.functional.conv2d(
        x, w, padding=1), [normal(3, 5, 5), normal(2, 3, 3, 3)])


def test_conv2d_gradcheck_and_gradgradcheck():
    x = tg.tensor(normal(1, 2, 5, 4), requires_grad=True)
    w = tg.tensor(normal(2, 1, 2, 3), requires_grad=True)
    b = tg.tensor(normal(2), requires_grad=True)
    f = lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    assert gradcheck(f, [x, w, b])
    assert gradgradcheck(f, [x, w, b])
    x1 = tg.tensor(normal(2, 2, 7), requires_grad=True)
    w1 = tg.tensor(normal(3, 2, 3), requires_grad=True)
    assert gradgradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=2, dilation=2), [x1, w1])


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(stride=2, padding=1,
                                                               output_padding=1),
                                dict(stride=(2, 3), dilation=2, groups=2, output_padding=(1, 0)),
                                dict(padding=(1, 2), dilation=(2, 1))], ids=str)
def test_conv_transpose2d_matches_torch(kw):
    torch = torch_or_skip()
    g = kw.get("groups", 1)
    compare(lambda *t: F.conv_transpose2d(*t, **kw),
            lambda *t: torch.nn.functional.conv_transpose2d(*t, **kw),
            [normal(2, 4, 5, 4), normal(4, 6 // g, 3, 2), normal(6)])


def test_conv_transpose2d_gradcheck():
    x = tg.tensor(normal(1, 2, 3, 3), requires_grad=True)
    w = tg.tensor(normal(2, 2, 2, 2), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), [x, w])


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(tg.tensor(normal(1, 3, 5, 5)), tg.tensor(normal(4, 2, 3, 3)), groups=2),
     r"conv2d: groups=2 and weight of shape \(4, 2, 3, 3\) expect input with 4 channels"),
    (lambda: F.conv2d(tg.tensor(normal(1, 4, 5, 5)), tg.tensor(normal(3, 2, 3, 3)), groups=2),
     "conv2d: out_channels .* divisible by groups=2"),
    (lambda: F.conv2d(tg.tensor(normal(1, 1, 2, 2)), tg.tensor(normal(1, 1, 3, 3))),
     r"conv2d: padded input size per channel \(2, 2\) is smaller than the kernel"),
    (lambda: F.conv2d(tg.tensor(normal(1, 1, 5, 5)), tg.tensor(normal(1, 1, 3)) ),
     "conv2d: weight must be a 4-D tensor"),
    (lambda: F.conv2d(tg.tensor(normal(5, 5)), tg.tensor(normal(1, 1, 3, 3))),
     r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"),
    (lambda: F.conv2d(tg.tensor(normal(1, 1, 5, 5)), tg.tensor(normal(1, 1, 3, 3)), stride=2,
                      padding="same"), "conv2d: padding='same' is not supported for strided"),
    (lambda: F.conv1d(tg.tensor(normal(1, 1, 5)), tg.tensor(normal(2, 1, 3)),
                      tg.tensor(normal(3))), r"conv1d: bias must have shape \(2,\)"),
    (lambda: F.conv2d(tg.tensor(normal(1, 1, 5, 5)), tg.tensor(normal(1, 1, 3, 3)), stride=0),
     "conv2d: stride must be at least 1"),
    (lambda: F.max_pool2d(tg.tensor(normal(1, 1, 5, 5)), 2, padding=2),
     "max_pool2d: padding .* at most half of kernel size"),
    (lambda: F.max_pool2d(tg.tensor(normal(1, 1, 2, 2)), 3),
     r"max_pool2d: input of spatial size \(2, 2\)"),
    (lambda: nn.MaxPool2d(2, stride=0)(tg.tensor(normal(1, 1, 4, 4))),
     "max_pool2d: stride must be at least 1"),
    (lambda: F.avg_pool2d(tg.tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2),
     "avg_pool2d: expected a floating-point input"),
    (lambda: F.conv_transpose2d(tg.tensor(normal(1, 2, 3, 3)), tg.tensor(normal(2, 1, 3, 3)),
                                stride=2, output_padding=2),
     "conv_transpose2d: output_padding .* must be smaller than"),
    (lambda: nn.BatchNorm2d(2)(tg.tensor(normal(1, 2, 1, 1))),
     "BatchNorm2d: training mode needs more than one value per channel"),
])
def test_bad_arguments_name_the_function(call, match):
    with pytest.raises((RuntimeError, ValueError, TypeError), match=match):
        call()


# --- pooling ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)),
                                dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)],
                         ids=str)
def test_max_pool2d_matches_torch(kw):
    torch = torch_or_skip()
    x = normal(2, 3, 7, 6)
    compare(lambda t: F.max_pool2d(t, **kw), lambda t: torch.nn.functional.max_pool2d(t, **kw),
            [x])
    ours = F.max_pool2d(tg.tensor(x), return_indices=True, **kw)[1]
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)[1]
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_max_pool2d_sends_the_gradient_to_the_first_max_of_a_window():
    torch = torch_or_skip()
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]]])
    compare(lambda t: F.max_pool2d(t, 2, 1), lambda t: torch.nn.functional.max_pool2d(t, 2, 1),
            [x])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=2, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False),
                                dict(kernel_size=(2, 3), stride=1, divisor_override=5)],
                         ids=str)
def test_avg_pool2d_matches_torch(kw):
    torch = torch_or_skip()
    compare(lambda t: F.avg_pool2d(t, **kw), lambda t: torch.nn.functional.avg_pool2d(t, **kw),
            [normal(2, 3, 7, 6)])


@pytest.mark.parametrize("size", [1, (2, 3), (3, 2), 4, (None, 2), (5, 6)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(size):
    torch = torch_or_skip()
    compare(lambda t: F.adaptive_avg_pool2d(t, size),
            lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size), [normal(2, 3, 6, 7)])


def test_pooling_gradcheck():
    x = tg.tensor(normal(1, 2, 5, 5), requires_grad=True)
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1), [x])
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [x])
    assert gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [x])


# --- modules ------------------------------------------------------------------------------------

def test_conv2d_module_init_and_forward_match_torch():
    torch = torch_or_skip()
    m = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, generator=np.random.default_rng(1))
    bound = 1 / np.sqrt(2 * 3 * 2)    # fan_in = in / groups * kh * kw
    assert m.weight.shape == (6, 2, 3, 2) and m.bias.shape == (6,)
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert np.abs(m.weight.numpy()).max() > 0.7 * bound
    t = torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(m.weight.numpy()))
        t.bias.copy_(torch.tensor(m.bias.numpy()))
    x = normal(2, 4, 6, 5)
    np.testing.assert_allclose(m(tg.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               atol=1e-12)
    assert dict(m.named_parameters()).keys() == dict(t.named_parameters()).keys()


def test_conv1d_module_and_errors():
    m = nn.Conv1d(3, 4, 3, padding="same", bias=False)
    assert m.bias is None and m(tg.tensor(normal(2, 3, 8))).shape == (2, 4, 8)
    with pytest.raises(ValueError, match="Conv2d: in_channels .* divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(NotImplementedError, match="Conv2d: padding_mode='reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")


def test_pool_modules():
    torch = torch_or_skip()
    x = normal(2, 3, 8, 8)
    for ours, theirs in [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
                         (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
                         (nn.AvgPool2d(3, 1, 1, count_include_pad=False),
                          torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)),
                         (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1))]:
        np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                                   atol=1e-12)


def test_batchnorm2d_matches_torch_in_training_and_eval():
    torch = torch_or_skip()
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
    ours.weight.data = tg.tensor([0.5, 2.0, -1.0])
    x = normal(4, 3, 5, 6)
    compare(lambda t: ours(t), lambda t: theirs(t), [x], atol=1e-10)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy())
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy())
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-10)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, 3, H, W\)"):
        ours(tg.tensor(normal(4, 3, 5)))


def test_dropout2d_zeros_whole_channels():
    m = nn.Dropout2d(0.5, generator=np.random.default_rng(0))
    x = tg.tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    y = m(x).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(2) == per_channel.max(2)).all()      # a channel is all or nothing
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    m.eval()
    assert m(x) is x


def test_graph_labels_name_the_window():
    assert ops.unfold.label(((3, 3), (1, 1), (1, 1))) == "Unfold 3x3"
    assert ops.fold.label(((8, 8), (2, 2), (2, 2), (1, 1))) == "Fold 2x2 stride 2x2"


def test_a_small_cnn_learns_to_tell_vertical_from_horizontal_bars():
    gen = np.random.default_rng(3)
    images = np.zeros((32, 1, 6, 6))
    labels = np.arange(32) % 2
    for n, (label, at) in enumerate(zip(labels, gen.integers(0, 6, 32))):
        images[n, 0, :, at] = 1.0 if label else 0.0
        images[n, 0, at, :] = 0.0 if label else 1.0
    images += 0.1 * gen.standard_normal(images.shape)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, generator=gen), nn.BatchNorm2d(4),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, generator=gen),
                          nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2, generator=gen))
    opt = tg.optim.Adam(model.parameters(), lr=0.05)
    x = tg.tensor(images)
    for _ in range(60):
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert (model(x).argmax(1).numpy() == labels).mean() == 1.0


def test_strided_flipped_and_broadcast_inputs_are_read_correctly():
    torch = torch_or_skip()
    x, w = normal(5, 6, 3, 4), normal(2, 3, 2, 2)
    compare(lambda x, w: F.conv2d(x.permute(3, 2, 0, 1).flip(2), w, padding=1),
            lambda x, w: torch.nn.functional.conv2d(x.permute(3, 2, 0, 1).flip(2), w, padding=1),
            [x, w])
    compare(lambda x: F.max_pool2d(x.expand(2, 3, 4, 5), 2, 1),
            lambda x: torch.nn.functional.max_pool2d(x.expand(2, 3, 4, 5), 2, 1), [normal(1, 3, 4, 5)])


def test_reprs_match_torch():
    torch = torch_or_skip()
    pairs = [(nn.Conv2d(3, 4, 3, padding="same"), torch.nn.Conv2d(3, 4, 3, padding="same")),
             (nn.Conv1d(2, 2, 3, stride=2, groups=2, bias=False),
              torch.nn.Conv1d(2, 2, 3, stride=2, groups=2, bias=False)),
             (nn.Conv2d(2, 2, (1, 3), padding=(0, 1), dilation=2),
              torch.nn.Conv2d(2, 2, (1, 3), padding=(0, 1), dilation=2)),
             (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)), (nn.AvgPool2d(3, 1, 1), torch.nn.AvgPool2d(3, 1, 1)),
             (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
             (nn.Dropout2d(), torch.nn.Dropout2d())]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
