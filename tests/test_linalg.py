"""linalg.py against PyTorch: products, einsum, diagonals and triangles, matrix powers and
the tg.linalg norms; values, gradients, finite differences, and PyTorch's shape checks."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg
from test_pointwise import oracle, sample

torch = pytest.importorskip("torch")


def normal(*shape):
    return sample("normal", shape)


PRODUCTS = [
    ("outer", tg.outer, torch.outer, [(3,), (4,)]),
    ("outer_empty", tg.outer, torch.outer, [(0,), (4,)]),
    ("inner_1d", tg.inner, torch.inner, [(3,), (3,)]),
    ("inner_nd", tg.inner, torch.inner, [(2, 3), (4, 3)]),
    ("inner_scalar", tg.inner, torch.inner, [(), (2, 3)]),
    ("tensordot2", tg.tensordot, torch.tensordot, [(2, 3, 4), (3, 4, 5)]),
    ("tensordot0", lambda a, b: tg.tensordot(a, b, 0), lambda a, b: torch.tensordot(a, b, 0),
     [(2, 3), (4,)]),
    ("tensordot_lists", lambda a, b: tg.tensordot(a, b, ([0, -1], [2, 0])),
     lambda a, b: torch.tensordot(a, b, ([0, -1], [2, 0])), [(2, 3, 4), (4, 5, 2)]),
    ("kron", tg.kron, torch.kron, [(2, 3), (3, 2)]),
    ("kron_ndims", tg.kron, torch.kron, [(2,), (2, 3, 1)]),
    ("mm", tg.mm, torch.mm, [(2, 3), (3, 4)]),
    ("mm_empty", tg.mm, torch.mm, [(2, 0), (0, 4)]),
    ("bmm", tg.bmm, torch.bmm, [(2, 3, 4), (2, 4, 1)]),
    ("mv", tg.mv, torch.mv, [(2, 3), (3,)]),
    ("dot", tg.dot, torch.dot, [(4,), (4,)]),
    ("vdot", tg.vdot, torch.vdot, [(4,), (4,)]),
    ("method_outer", lambda a, b: a.outer(b), lambda a, b: a.outer(b), [(3,), (2,)]),
    ("method_inner", lambda a, b: a.inner(b), lambda a, b: a.inner(b), [(2, 3), (3,)]),
    ("method_kron", lambda a, b: a.kron(b), lambda a, b: a.kron(b), [(2, 2), (1, 3)]),
    ("method_mm", lambda a, b: a.mm(b), lambda a, b: a.mm(b), [(2, 3), (3, 2)]),
    ("method_bmm", lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), [(1, 2, 3), (1, 3, 2)]),
    ("method_mv", lambda a, b: a.mv(b), lambda a, b: a.mv(b), [(2, 3), (3,)]),
    ("method_vdot", lambda a, b: a.vdot(b), lambda a, b: a.vdot(b), [(3,), (3,)]),
]


@pytest.mark.parametrize("name, ours, theirs, shapes", PRODUCTS, ids=[c[0] for c in PRODUCTS])
def test_products_match_torch(name, ours, theirs, shapes):
    oracle(ours, theirs, [normal(*s) for s in shapes])


@pytest.mark.parametrize("fn, shapes", [
    (tg.mm, [(2, 3), (3,)]), (tg.mm, [(2, 3), (4, 2)]), (tg.bmm, [(2, 3, 4), (3, 4, 2)]),
    (tg.bmm, [(3, 4), (4, 2)]), (tg.mv, [(2, 3), (2, 3)]), (tg.dot, [(3,), (4,)]),
    (tg.dot, [(1, 3), (3,)]), (tg.outer, [(2, 2), (2,)]),
    (tg.tensordot, [(2, 3), (4, 5)]), (tg.bmm, [(2, 3, 4), (2, 3, 4)]), (tg.mv, [(2, 3), (2,)]),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_shape_checks_raise_like_torch(fn, shapes):
    a, b = (tg.tensor(normal(*s)) for s in shapes)
    with pytest.raises((RuntimeError, ValueError), match=fn.__name__):
        fn(a, b)
    with pytest.raises(RuntimeError):
        getattr(torch, fn.__name__)(*(torch.tensor(x.numpy()) for x in (a, b)))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij->...ji", [(2, 1, 3, 4)]),
    ("i...->...", [(3, 2, 4)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
    ("ij,ij->ij", [(0, 3), (0, 3)]),
    ("Ab,bA->", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_matches_torch(equation, shapes):
    oracle(lambda *xs: tg.einsum(equation, *xs), lambda *ts: torch.einsum(equation, *ts),
           [normal(*s) for s in shapes])


def test_einsum_takes_a_list_of_operands():
    a, b = normal(2, 3), normal(3)
    oracle(lambda x, y: tg.einsum("ij,j->i", [x, y]), lambda x, y: torch.einsum("ij,j->i", [x, y]),
           [a, b])


@pytest.mark.parametrize("equation, shapes, match", [
    ("ij,jk->ik", [(2, 3), (4, 5)], "label 'j' has size"),
    ("ij->ik", [(2, 3)], "appear in no operand"),
    ("ij->ii", [(2, 2)], "appears twice"),
    ("ijk->i", [(2, 3)], "don't fit"),
    ("ij,jk->ik", [(2, 3)], "2 operands"),
    ("i1->i", [(2, 3)], "letters"),
])
def test_einsum_errors_name_the_problem(equation, shapes, match):
    with pytest.raises(ValueError, match=f"einsum: .*{match}"):
        tg.einsum(equation, *[tg.tensor(normal(*s)) for s in shapes])


DIAGONALS = [
    ("diagonal", lambda x: tg.diagonal(x), torch.diagonal, (3, 4)),
    ("diagonal_offset", lambda x: tg.diagonal(x, 1), lambda x: torch.diagonal(x, 1), (3, 4)),
    ("diagonal_negative", lambda x: tg.diagonal(x, -2, 0, 1), lambda x: torch.diagonal(x, -2, 0, 1), (4, 3)),
    ("diagonal_dims", lambda x: tg.diagonal(x, 0, -1, 0), lambda x: torch.diagonal(x, 0, -1, 0), (3, 2, 3)),
    ("diagonal_past_the_end", lambda x: tg.diagonal(x, 5), lambda x: torch.diagonal(x, 5), (3, 4)),
    ("method_diagonal", lambda x: x.diagonal(dim1=1, dim2=2), lambda x: x.diagonal(dim1=1, dim2=2), (2, 3, 3)),
    ("linalg_diagonal", lambda x: tg.linalg.diagonal(x, offset=1),
     lambda x: torch.linalg.diagonal(x, offset=1), (2, 3, 4)),
    ("diag_vector", tg.diag, torch.diag, (3,)),
    ("diag_vector_offset", lambda x: tg.diag(x, -1), lambda x: torch.diag(x, -1), (3,)),
    ("diag_matrix", lambda x: x.diag(1), lambda x: x.diag(1), (3, 4)),
    ("diag_embed", tg.diag_embed, torch.diag_embed, (2, 3)),
    ("diag_embed_offset", lambda x: tg.diag_embed(x, 1, 0, 2), lambda x: torch.diag_embed(x, 1, 0, 2), (2, 3)),
    ("method_diag_embed", lambda x: x.diag_embed(-1, dim1=-1, dim2=0),
     lambda x: x.diag_embed(-1, dim1=-1, dim2=0), (3,)),
    ("trace", tg.linalg.trace, torch.trace, (3, 4)),
    ("method_trace", lambda x: x.trace(), lambda x: x.trace(), (3, 3)),
    ("tril", tg.tril, torch.tril, (3, 4)),
    ("tril_batched", lambda x: tg.tril(x, -1), lambda x: torch.tril(x, -1), (2, 3, 3)),
    ("triu", lambda x: x.triu(1), lambda x: x.triu(1), (4, 3)),
    ("triu_empty", tg.triu, torch.triu, (0, 3)),
]


@pytest.mark.parametrize("name, ours, theirs, shape", DIAGONALS, ids=[c[0] for c in DIAGONALS])
def test_diagonals_and_triangles_match_torch(name, ours, theirs, shape):
    oracle(ours, theirs, [normal(*shape)])


def test_diagonal_refuses_bad_dims():
    with pytest.raises(RuntimeError, match="diagonal"):
        tg.diagonal(tg.tensor(normal(3, 3)), 0, 1, 1)
    with pytest.raises(RuntimeError, match="trace"):
        tg.linalg.trace(tg.tensor(normal(2, 2, 2)))
    with pytest.raises(RuntimeError, match="tril"):
        tg.tril(tg.tensor(normal(3)))


@pytest.mark.parametrize("n, shape", [(0, (3, 3)), (1, (3, 3)), (2, (3, 3)), (5, (2, 2, 2)),
                                      (6, (3, 3))])
def test_matrix_power(n, shape):
    a = normal(*shape) / 2
    oracle(lambda x: tg.matrix_power(x, n), lambda x: torch.matrix_power(x, n), [a])
    oracle(lambda x: tg.linalg.matrix_power(x, n), lambda x: torch.linalg.matrix_power(x, n), [a],
           smooth=False)
    oracle(lambda x: x.matrix_power(n), lambda x: x.matrix_power(n), [a], smooth=False)


def test_matrix_power_refuses_what_it_cannot_do():
    with pytest.raises(NotImplementedError, match="matrix_power: a negative n"):
        tg.matrix_power(tg.tensor(normal(2, 2)), -1)
    with pytest.raises(RuntimeError, match="square"):
        tg.matrix_power(tg.tensor(normal(2, 3)), 2)


VECTOR_NORMS = [(2, None, False), (1, 0, True), (3, (0, 1), False), (math.inf, -1, False),
                (-math.inf, 1, True), (0, None, False), (0.5, 1, False)]


@pytest.mark.parametrize("ord, dim, keepdim", VECTOR_NORMS, ids=str)
def test_vector_norm(ord, dim, keepdim):
    smooth = ord not in (1, math.inf, -math.inf, 0)
    oracle(lambda x: tg.linalg.vector_norm(x, ord, dim, keepdim),
           lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim), [sample("away", (3, 4))],
           smooth=smooth)


MATRIX_NORMS = [("fro", (-2, -1), False), (1, (-2, -1), False), (-1, (0, 1), True),
                (math.inf, (1, 2), False), (-math.inf, (2, 0), True)]


@pytest.mark.parametrize("ord, dim, keepdim", MATRIX_NORMS, ids=str)
def test_matrix_norm(ord, dim, keepdim):
    oracle(lambda x: tg.linalg.matrix_norm(x, ord, dim, keepdim),
           lambda x: torch.linalg.matrix_norm(x, ord, dim, keepdim), [sample("away", (2, 3, 4))],
           smooth=ord == "fro")


@pytest.mark.parametrize("ord, dim, shape", [(None, None, (2, 3, 4)), (None, 1, (2, 3)),
                                             (None, (0, 1), (2, 3)), ("fro", None, (2, 3)),
                                             (1, None, (2, 3)), (1, None, (4,)),
                                             (math.inf, (1, 2), (2, 3, 4)), (3, -1, (2, 3))], ids=str)
def test_linalg_norm(ord, dim, shape):
    oracle(lambda x: tg.linalg.norm(x, ord, dim), lambda x: torch.linalg.norm(x, ord, dim),
           [sample("away", shape)], smooth=False)


def test_linalg_norm_refuses_what_it_cannot_do():
    x = tg.tensor(normal(2, 3))
    with pytest.raises(NotImplementedError, match="singular values"):
        tg.linalg.norm(x, "nuc")
    with pytest.raises(NotImplementedError, match="singular values"):
        tg.linalg.matrix_norm(x, 2)
    with pytest.raises(RuntimeError, match="1-D or 2-D"):
        tg.linalg.norm(tg.tensor(normal(2, 2, 2)), 1)
