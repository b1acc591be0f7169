"""torch.cuda's questions, answered for a NumPy engine: there is no GPU here.

Course code asks `torch.cuda.is_available()` to pick a device; the answer is False,
so it stays on "cpu". `Tensor.cuda()` raises, naming why.
"""


def is_available():
    return False


def device_count():
    return 0
