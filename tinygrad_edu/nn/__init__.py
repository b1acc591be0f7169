"""Neural-network building blocks with PyTorch's names: Module, Parameter, layers, init."""
from .module import Module, Parameter
from .layers import (Linear, BatchNorm1d, Dropout, ReLU, Sigmoid, Tanh, LeakyReLU, Softmax,
                     LogSoftmax, Identity, Flatten, Sequential, ModuleList, MLP)
from . import init, functional

__all__ = ["Module", "Parameter", "Linear", "BatchNorm1d", "Dropout", "ReLU", "Sigmoid",
           "Tanh", "LeakyReLU", "Softmax", "LogSoftmax", "Identity", "Flatten", "Sequential",
           "ModuleList", "MLP", "init", "functional"]
