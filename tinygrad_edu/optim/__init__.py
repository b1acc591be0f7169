"""Optimizers (SGD, Adam, AdamW, RMSprop) and learning-rate schedules, as in torch.optim."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from . import lr_scheduler
from .lr_scheduler import LRScheduler, StepLR, ExponentialLR

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler", "LRScheduler",
           "StepLR", "ExponentialLR"]
