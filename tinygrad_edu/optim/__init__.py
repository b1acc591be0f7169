"""Optimizers (SGD, Adam, AdamW, Adamax, Adagrad, RMSprop) and learning-rate schedules,
as in torch.optim."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .adamax import Adamax
from .adagrad import Adagrad
from .rmsprop import RMSprop
from . import lr_scheduler
from .lr_scheduler import (LRScheduler, LambdaLR, StepLR, MultiStepLR, ExponentialLR,
                           CosineAnnealingLR, LinearLR, OneCycleLR, ReduceLROnPlateau,
                           ConstantLR, PolynomialLR)
from .lr_scheduler import (SequentialLR, ChainedScheduler, CyclicLR,
                           CosineAnnealingWarmRestarts)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "Adagrad", "RMSprop", "lr_scheduler",
           "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "LinearLR", "OneCycleLR", "ReduceLROnPlateau",
           "ConstantLR", "PolynomialLR", "SequentialLR", "ChainedScheduler", "CyclicLR",
           "CosineAnnealingWarmRestarts"]
