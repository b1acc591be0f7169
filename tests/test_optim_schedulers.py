"""Learning-rate schedulers: every lr sequence against torch.optim.lr_scheduler, and
load_state_dict refusing what the constructor would."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.optim import lr_scheduler


class Halve:
    """A callable object: LambdaLR saves its attributes."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, epoch):
        return self.base ** (epoch // 3)


def warmup(epoch):
    return min(1.0, (epoch + 1) / 4)


# (name, kwargs, optimizer, optimizer kwargs, steps)
SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5), "SGD", {}, 20),
    ("MultiStepLR", dict(milestones=[8, 3, 8, 12], gamma=0.3), "SGD", {}, 20),
    ("ExponentialLR", dict(gamma=0.9), "Adam", {}, 20),
    ("CosineAnnealingLR", dict(T_max=7), "SGD", {}, 30),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01), "Adam", {}, 25),
    ("CosineAnnealingLR", dict(T_max=1), "SGD", {}, 6),
    ("LambdaLR", dict(lr_lambda=warmup), "SGD", {}, 10),
    ("LambdaLR", dict(lr_lambda=[warmup, lambda e: 0.9 ** e]), "Adam", {}, 10),
    ("LinearLR", dict(), "SGD", {}, 10),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.1, total_iters=4), "Adam", {}, 10),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=20), "SGD", dict(momentum=0.9), 20),
    ("OneCycleLR", dict(max_lr=[0.1, 0.3], epochs=3, steps_per_epoch=7, anneal_strategy="linear",
                        three_phase=True, base_momentum=[0.8, 0.7], max_momentum=0.9),
     "Adam", {}, 21),
    ("OneCycleLR", dict(max_lr=0.05, total_steps=10, pct_start=0.5, cycle_momentum=False,
                        div_factor=10.0, final_div_factor=100.0), "Adagrad", {}, 10),
    ("OneCycleLR", dict(max_lr=0.05, total_steps=12, pct_start=0.25), "Adamax", {}, 12),
]


def two_group_pairs(torch, opt_name, opt_kw):
    """The same two-group optimizer (lr 0.1 and 0.02) here and in torch."""
    ours = getattr(optim, opt_name)([{"params": [nn.Parameter(np.ones(2))]},
                                     {"params": [nn.Parameter(np.ones(1))], "lr": 0.02}],
                                    lr=0.1, **opt_kw)
    theirs = getattr(torch.optim, opt_name)(
        [{"params": [torch.ones(2, dtype=torch.float64, requires_grad=True)]},
         {"params": [torch.ones(1, dtype=torch.float64, requires_grad=True)], "lr": 0.02}],
        lr=0.1, **opt_kw)
    return ours, theirs


def same(a, b):
    return a == pytest.approx(b, rel=1e-14, abs=1e-17)


@pytest.mark.parametrize("name, kw, opt_name, opt_kw, steps", SCHEDULES,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_lr_sequence_matches_torch(name, kw, opt_name, opt_kw, steps):
    torch = pytest.importorskip("torch")
    opt_o, opt_t = two_group_pairs(torch, opt_name, opt_kw)
    sched_o = getattr(lr_scheduler, name)(opt_o, **kw)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kw)
    assert getattr(optim, name) is getattr(lr_scheduler, name)
    for step in range(steps):
        assert same(sched_o.get_last_lr(), sched_t.get_last_lr()), step
        for g_o, g_t in zip(opt_o.param_groups, opt_t.param_groups):
            assert same(g_o["lr"], g_t["lr"]), step
            for key in ("momentum", "betas"):   # OneCycleLR cycles them
                if key in g_o:
                    assert same(list(np.atleast_1d(g_o[key])), list(np.atleast_1d(g_t[key])))
        opt_o.step(), opt_t.step()
        if step < steps - 1 or name != "OneCycleLR":
            sched_o.step(), sched_t.step()
    if name == "OneCycleLR":   # one step past total_steps
        sched_o.step(), sched_t.step()
        with pytest.raises(ValueError, match="Tried to step"):
            sched_t.step()
        lrs = sched_o.get_last_lr()
        with pytest.raises(ValueError, match=r"OneCycleLR: tried to step \d+ times; "
                                             "total_steps is"):
            sched_o.step()
        assert sched_o.get_last_lr() == lrs and sched_o.last_epoch == sched_t.last_epoch - 1


METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 3.0, 3.5, 3.5, 3.5, 3.5, 2.0, 2.0, 2.5, 2.5, 2.5,
           2.5, float("nan"), 2.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
PLATEAU = [dict(), dict(patience=1), dict(patience=0, factor=0.5, cooldown=2),
           dict(mode="max", patience=1, threshold=0.1, threshold_mode="abs"),
           dict(patience=1, threshold=0.01, threshold_mode="abs", min_lr=[0.005, 0.015]),
           dict(mode="max", patience=0, factor=0.7, min_lr=0.01, eps=1e-3)]


@pytest.mark.parametrize("kw", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    opt_o, opt_t = two_group_pairs(torch, "SGD", {})
    sched_o = optim.ReduceLROnPlateau(opt_o, **kw)
    sched_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kw)
    metrics = METRICS if kw.get("mode") != "max" else [-m for m in METRICS]
    for i, m in enumerate(metrics * 2):
        opt_o.step(), opt_t.step()
        sched_o.step(tg.tensor(m) if i % 2 else m)   # a one-element tensor works too
        sched_t.step(m)
        assert sched_o.get_last_lr() == sched_t.get_last_lr(), i
        assert (sched_o.num_bad_epochs, sched_o.cooldown_counter, sched_o.best) == \
            (sched_t.num_bad_epochs, sched_t.cooldown_counter, sched_t.best)
    assert [g["lr"] for g in opt_o.param_groups] == [g["lr"] for g in opt_t.param_groups]


def test_schedulers_keep_lr_changes_made_between_steps_as_torch():
    torch = pytest.importorskip("torch")
    opt_o, opt_t = two_group_pairs(torch, "SGD", {})
    sched_o = optim.CosineAnnealingLR(opt_o, T_max=6)
    sched_t = torch.optim.lr_scheduler.CosineAnnealingLR(opt_t, T_max=6)
    for step in range(10):
        if step == 3:
            opt_o.param_groups[0]["lr"] = opt_t.param_groups[0]["lr"] = 0.5
        opt_o.step(), opt_t.step()
        sched_o.step(), sched_t.step()
        assert same(sched_o.get_last_lr(), sched_t.get_last_lr())


def test_resuming_with_last_epoch_needs_initial_lr_and_does_not_step_twice():
    torch = pytest.importorskip("torch")
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    with pytest.raises(KeyError, match=r"ExponentialLR: param_groups\[0\] has no 'initial_lr'"):
        optim.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    opt_t = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)
    for o in (opt.param_groups[0], opt_t.param_groups[0]):
        o["initial_lr"] = 1.0
    for name, kw in [("ExponentialLR", dict(gamma=0.5)), ("CosineAnnealingLR", dict(T_max=10)),
                     ("LinearLR", dict(start_factor=0.5))]:
        ours = getattr(optim, name)(opt, last_epoch=3, **kw)
        theirs = getattr(torch.optim.lr_scheduler, name)(opt_t, last_epoch=3, **kw)
        assert same(ours.get_last_lr(), theirs.get_last_lr()) and ours.last_epoch == 4
        opt.step(), opt_t.step()
        ours.step(), theirs.step()
        assert same(ours.get_last_lr(), theirs.get_last_lr())


# --- state_dict and load_state_dict --------------------------------------------------

def make(name, opt=None):
    opt = opt or optim.SGD([{"params": [nn.Parameter(np.ones(1))]},
                            {"params": [nn.Parameter(np.ones(1))], "lr": 0.3}],
                           lr=0.1, momentum=0.9)
    kw = {"StepLR": dict(step_size=2), "MultiStepLR": dict(milestones=[2, 5, 5]),
          "ExponentialLR": dict(gamma=0.8), "CosineAnnealingLR": dict(T_max=4, eta_min=0.01),
          "LambdaLR": dict(lr_lambda=[Halve(), warmup]), "LinearLR": dict(total_iters=3),
          "OneCycleLR": dict(max_lr=0.2, total_steps=30), "ReduceLROnPlateau": dict(patience=1)}
    return getattr(optim, name)(opt, **kw[name])


NAMES = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "LinearLR",
         "OneCycleLR", "ReduceLROnPlateau"]


def advance(sched, n, start=0):
    for i in range(start, start + n):
        sched.optimizer.step()
        if isinstance(sched, optim.ReduceLROnPlateau):
            sched.step([3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.2, 1.3, 1.3, 1.4][i % 10])
        else:
            sched.step()


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_through_a_file_resumes_identically(tmp_path, name):
    a = make(name)
    if name == "LambdaLR":
        a.lr_lambdas[0].base = 0.25
    advance(a, 5)
    saved = tg.load(tg.save({"opt": a.optimizer.state_dict(), "sched": a.state_dict()},
                            tmp_path / "s.npz"))
    assert "optimizer" not in saved["sched"]
    b = make(name)
    b.optimizer.load_state_dict(saved["opt"])
    b.load_state_dict(saved["sched"])
    if name == "LambdaLR":
        assert saved["sched"]["lr_lambdas"] == [{"base": 0.25}, None]
        assert b.lr_lambdas[0].base == 0.25
    assert b.get_last_lr() == a.get_last_lr()
    advance(a, 8, start=5)
    advance(b, 8, start=5)
    assert b.get_last_lr() == a.get_last_lr()
    assert [g["lr"] for g in b.optimizer.param_groups] == [g["lr"] for g in a.optimizer.param_groups]
    assert [g["momentum"] for g in b.optimizer.param_groups] == \
        [g["momentum"] for g in a.optimizer.param_groups]


BAD_STATE = [
    ("StepLR", dict(optimizer=optim.SGD([nn.Parameter(np.ones(1))], lr=5.0)), ValueError,
     "'optimizer' is not StepLR state"),
    ("StepLR", dict(T_max=3), ValueError, "'T_max' is not StepLR state"),
    ("StepLR", dict(step_size="2"), TypeError, "StepLR.load_state_dict: step_size must be an "
                                               "integer, got '2'"),
    ("StepLR", dict(step_size=0), ValueError, "invalid step_size 0"),
    ("StepLR", dict(step_size=2.0), TypeError, "step_size must be an integer"),
    ("StepLR", dict(gamma=float("nan")), ValueError, "invalid gamma nan"),
    ("StepLR", dict(gamma=-0.5), ValueError, "invalid gamma -0.5"),
    ("StepLR", dict(last_epoch=-3), ValueError, "invalid last_epoch -3"),
    ("StepLR", dict(last_epoch=True), TypeError, "last_epoch must be an integer"),
    ("StepLR", dict(base_lrs=[0.1]), ValueError, "base_lrs has 1 values, the optimizer 2"),
    ("StepLR", dict(base_lrs=0.1), TypeError, "base_lrs must be a list"),
    ("StepLR", dict(_last_lr=[0.1, "0.3"]), TypeError, r"_last_lr\[1\] must be a number"),
    ("StepLR", dict(base_lrs=[0.1, -1.0]), ValueError, r"invalid base_lrs\[1\] -1.0"),
    ("MultiStepLR", dict(milestones={2.5: 1}), TypeError, "milestone must be an integer"),
    ("MultiStepLR", dict(milestones={2: 0}), ValueError, "count of milestone 2 0"),
    ("MultiStepLR", dict(milestones=[2, 5]), TypeError, "milestones must be a Counter"),
    ("CosineAnnealingLR", dict(T_max=0), ValueError, "invalid T_max 0"),
    ("CosineAnnealingLR", dict(eta_min=float("inf")), ValueError, "invalid eta_min inf"),
    ("LinearLR", dict(start_factor=0), ValueError, r"invalid start_factor 0 \(must be in "
                                                   r"\(0, 1\]\)"),
    ("LinearLR", dict(end_factor=1.5), ValueError, "invalid end_factor 1.5"),
    ("LinearLR", dict(total_iters=0), ValueError, "invalid total_iters 0"),
    ("LambdaLR", dict(lr_lambdas=[None, None, None]), TypeError, "lr_lambdas must be a list "
                                                                 "of 2 entries"),
    ("LambdaLR", dict(lr_lambdas=[None, {"x": 1}]), TypeError, r"lr_lambdas\[1\] must be None "
                                                               "for a function"),
    ("LambdaLR", dict(lr_lambdas=[{"other": 1}, None]), ValueError,
     r"lr_lambdas\[0\]: 'other' is not an attribute of Halve"),
    ("OneCycleLR", dict(total_steps=-1), ValueError, "invalid total_steps -1"),
    ("OneCycleLR", dict(pct_start=1.5), ValueError, "invalid pct_start 1.5"),
    ("OneCycleLR", dict(anneal_strategy="cosine"), ValueError, "anneal_strategy must be 'cos'"),
    ("OneCycleLR", dict(three_phase="no"), TypeError, "three_phase must be True or False"),
    ("OneCycleLR", dict(use_beta1=True), ValueError, "use_beta1=True, but the optimizer has no "
                                                     "betas"),
    ("ReduceLROnPlateau", dict(mode="mean"), ValueError, "mode must be 'min' or 'max'"),
    ("ReduceLROnPlateau", dict(factor=1.0), ValueError, "invalid factor 1.0"),
    ("ReduceLROnPlateau", dict(patience=-1), ValueError, "invalid patience -1"),
    ("ReduceLROnPlateau", dict(best=float("nan")), TypeError, "best must be a number"),
    ("ReduceLROnPlateau", dict(best="1"), TypeError, "best must be a number"),
    ("ReduceLROnPlateau", dict(num_bad_epochs=1.5), TypeError, "num_bad_epochs must be an "
                                                                "integer"),
    ("ReduceLROnPlateau", dict(threshold_mode="ABS"), ValueError, "threshold_mode must be"),
    ("ReduceLROnPlateau", dict(default_min_lr=None, min_lrs=[0.0]), ValueError,
     "min_lrs has 1 values, the optimizer 2"),
]


@pytest.mark.parametrize("name, change, error, match", BAD_STATE,
                         ids=[f"{b[0]}-{next(iter(b[1]))}-{i}" for i, b in enumerate(BAD_STATE)])
def test_load_state_dict_refuses_and_changes_nothing(name, change, error, match):
    source = make(name)
    advance(source, 3)
    saved = {**source.state_dict(), **change}
    target = make(name)
    advance(target, 1)
    before, opt, groups = target.state_dict(), target.optimizer, \
        [dict(g) for g in target.optimizer.param_groups]
    with pytest.raises(error, match=match):
        target.load_state_dict(saved)
    assert target.state_dict() == before and target.optimizer is opt
    assert target.optimizer.param_groups == groups


def test_load_state_dict_needs_every_key_and_a_dict():
    sched = make("StepLR")
    saved = sched.state_dict()
    del saved["gamma"]
    with pytest.raises(ValueError, match="StepLR.load_state_dict: the state dict lacks 'gamma'"):
        sched.load_state_dict(saved)
    with pytest.raises(TypeError, match="expected a dict"):
        sched.load_state_dict([("gamma", 0.1)])
    with pytest.raises(ValueError, match="'lr_lambdas' is not StepLR state"):
        sched.load_state_dict(make("LambdaLR").state_dict())


BAD_ARGUMENTS = [
    (lambda o: optim.StepLR(o, step_size=0), ValueError, "StepLR: invalid step_size 0"),
    (lambda o: optim.StepLR(o, step_size=2, gamma="0.1"), TypeError,
     "StepLR: gamma must be a number"),
    (lambda o: optim.ExponentialLR(o, gamma=float("nan")), ValueError,
     "ExponentialLR: invalid gamma nan"),
    (lambda o: optim.MultiStepLR(o, milestones=[2, 4.5]), TypeError,
     "MultiStepLR: milestone must be an integer, got 4.5"),
    (lambda o: optim.MultiStepLR(o, milestones=5), TypeError, "milestones must be a list"),
    (lambda o: optim.MultiStepLR(o, milestones=[-1]), ValueError, "invalid milestone -1"),
    (lambda o: optim.CosineAnnealingLR(o, T_max=0), ValueError,
     "CosineAnnealingLR: invalid T_max 0"),
    (lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=-0.1), ValueError,
     "invalid eta_min -0.1"),
    (lambda o: optim.LinearLR(o, start_factor=1.5), ValueError, "LinearLR: invalid start_factor"),
    (lambda o: optim.LinearLR(o, end_factor=-0.5), ValueError, "LinearLR: invalid end_factor"),
    (lambda o: optim.LambdaLR(o, lr_lambda=[warmup]), ValueError,
     "LambdaLR: lr_lambda has 1 values, the optimizer 2 parameter groups"),
    (lambda o: optim.LambdaLR(o, lr_lambda=0.5), TypeError,
     r"LambdaLR: lr_lambda\[0\] must be a function of the epoch"),
    (lambda o: optim.LambdaLR(o, lr_lambda=lambda e: -1.0), ValueError,
     r"LambdaLR: invalid lr_lambda\[0\]\(0\) -1.0"),
    (lambda o: optim.LambdaLR(o, lr_lambda=lambda e: "1"), TypeError,
     r"LambdaLR: lr_lambda\[0\]\(0\) must be a number"),
    (lambda o: optim.StepLR("opt", 2), TypeError, "StepLR: str is not an Optimizer"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1), ValueError,
     "OneCycleLR: give total_steps, or epochs and steps_per_epoch"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, total_steps=0), ValueError,
     "OneCycleLR: invalid total_steps 0"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=1.5), TypeError,
     "OneCycleLR: steps_per_epoch must be an integer"),
    (lambda o: optim.OneCycleLR(o, max_lr=[0.1], total_steps=5), ValueError,
     "OneCycleLR: max_lr has 1 values, the optimizer 2"),
    (lambda o: optim.OneCycleLR(o, max_lr=-0.1, total_steps=5), ValueError,
     r"OneCycleLR: invalid max_lr\[0\] -0.1"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, total_steps=5, pct_start=2.0), ValueError,
     "OneCycleLR: invalid pct_start 2.0"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, total_steps=5, anneal_strategy="exp"),
     ValueError, "OneCycleLR: anneal_strategy must be 'cos' or 'linear'"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, total_steps=5, div_factor=0), ValueError,
     "OneCycleLR: invalid div_factor 0"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, total_steps=5, base_momentum=float("nan")),
     ValueError, r"OneCycleLR: invalid base_momentum\[0\] nan"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.1, total_steps=5, cycle_momentum="yes"), TypeError,
     "OneCycleLR: cycle_momentum must be True or False"),
    (lambda o: optim.ReduceLROnPlateau(o, mode="minimum"), ValueError,
     "ReduceLROnPlateau: mode must be 'min' or 'max', got 'minimum'"),
    (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), ValueError,
     "ReduceLROnPlateau: invalid factor 1.0"),
    (lambda o: optim.ReduceLROnPlateau(o, patience=2.5), TypeError,
     "ReduceLROnPlateau: patience must be an integer"),
    (lambda o: optim.ReduceLROnPlateau(o, min_lr=[0.1, 0.2, 0.3]), ValueError,
     "ReduceLROnPlateau: min_lr has 3 values, the optimizer 2"),
    (lambda o: optim.ReduceLROnPlateau(o, min_lr=-1), ValueError,
     "ReduceLROnPlateau: invalid min_lr -1"),
    (lambda o: optim.ReduceLROnPlateau(o, threshold="1e-4"), TypeError,
     "ReduceLROnPlateau: threshold must be a number"),
]


@pytest.mark.parametrize("build, error, match", BAD_ARGUMENTS,
                         ids=[str(i) for i in range(len(BAD_ARGUMENTS))])
def test_constructors_refuse_bad_arguments_and_leave_the_optimizer_alone(build, error, match):
    opt = optim.SGD([{"params": [nn.Parameter(np.ones(1))]},
                     {"params": [nn.Parameter(np.ones(1))], "lr": 0.3}], lr=0.1, momentum=0.5)
    groups = [dict(g) for g in opt.param_groups]
    with pytest.raises(error, match=match):
        build(opt)
    assert opt.param_groups == groups


def test_one_cycle_needs_momentum_or_betas_and_refuses_an_empty_phase():
    opt = optim.Adagrad([nn.Parameter(np.ones(1))])
    with pytest.raises(ValueError, match="OneCycleLR: Adagrad has no momentum or beta1 to cycle"):
        optim.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="OneCycleLR: phase 0 of the schedule has no steps"):
        optim.OneCycleLR(opt, max_lr=0.1, total_steps=2, pct_start=0.5, cycle_momentum=False)
    with pytest.raises(ValueError, match=r"OneCycleLR: invalid max_momentum\[0\] 1.0 \(must be "
                                         r"finite, >= 0.0, < 1"):
        optim.OneCycleLR(optim.Adam([nn.Parameter(np.ones(1))]), max_lr=0.1, total_steps=5,
                         max_momentum=1.0)


def test_reduce_lr_on_plateau_refuses_a_string_metric():
    sched = make("ReduceLROnPlateau")
    with pytest.raises(TypeError, match="ReduceLROnPlateau.step: metrics must be a number"):
        sched.step("0.5")
    assert sched.last_epoch == 0 and sched.num_bad_epochs == 0


def test_a_group_added_after_the_scheduler_is_an_error_not_a_silent_skip():
    # (schedulers that multiply the current lrs schedule the new group too, as PyTorch)
    sched = make("LambdaLR")
    sched.optimizer.add_param_group({"params": [nn.Parameter(np.ones(1))]})
    lrs = sched.get_last_lr()
    with pytest.raises(RuntimeError, match="the optimizer has 3 parameter groups, 2 when the "
                                           "scheduler was made"):
        sched.step()
    assert sched.get_last_lr() == lrs and sched.last_epoch == 0
    assert math.isfinite(sched.optimizer.param_groups[0]["lr"])
