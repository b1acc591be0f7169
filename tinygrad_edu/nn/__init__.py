"""Neural-network building blocks with PyTorch's names: Module, Parameter, layers, init."""
from .module import Module, Parameter
from .layers import (Linear, BatchNorm1d, LayerNorm, Embedding, Dropout, ReLU, Sigmoid, Tanh,
                     LeakyReLU, GELU, SiLU, Mish, ELU, SELU, Softplus, Hardtanh, ReLU6,
                     Hardswish, Softmax, LogSoftmax, Identity, Flatten, Unflatten,
                     CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss,
                     BCELoss, BCEWithLogitsLoss, MultiMarginLoss, Sequential, ModuleList,
                     ModuleDict, ParameterList, MLP)
from .attention import MultiheadAttention, TransformerEncoderLayer
from . import init, functional, utils

__all__ = ["Module", "Parameter", "Linear", "BatchNorm1d", "LayerNorm", "Embedding", "Dropout",
           "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "SiLU", "Mish", "ELU", "SELU",
           "Softplus", "Hardtanh", "ReLU6", "Hardswish", "Softmax", "LogSoftmax", "Identity",
           "Flatten", "Unflatten", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss",
           "Sequential", "ModuleList", "ModuleDict", "ParameterList", "MLP", "init",
           "functional", "utils"]
