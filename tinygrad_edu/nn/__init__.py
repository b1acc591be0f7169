"""Neural-network building blocks with PyTorch's names: Module, Parameter, layers, init."""
from .module import Module, Parameter
from .layers import (Linear, BatchNorm1d, LayerNorm, Embedding, Dropout, ReLU, Sigmoid, Tanh,
                     LeakyReLU, GELU, SiLU, Mish, ELU, SELU, Softplus, Hardtanh, ReLU6,
                     Hardswish, Softmax, LogSoftmax, Identity, Flatten, Unflatten,
                     CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss,
                     BCELoss, BCEWithLogitsLoss, MultiMarginLoss, Sequential, ModuleList,
                     ModuleDict, ParameterList, MLP)
from .conv_layers import (Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, MaxPool1d,
                          AvgPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d,
                          Dropout2d)
from .attention import MultiheadAttention, TransformerEncoderLayer
from . import init, functional, utils

__all__ = ["Module", "Parameter", "Linear", "BatchNorm1d", "LayerNorm", "Embedding", "Dropout",
           "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "SiLU", "Mish", "ELU", "SELU",
           "Softplus", "Hardtanh", "ReLU6", "Hardswish", "Softmax", "LogSoftmax", "Identity",
           "Flatten", "Unflatten", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss",
           "Sequential", "ModuleList", "ModuleDict", "ParameterList", "MLP", "Conv1d", "Conv2d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d",
           "MultiheadAttention", "TransformerEncoderLayer", "init", "functional", "utils",
           "MaxPool1d", "AvgPool1d", "ConvTranspose1d", "ConvTranspose2d"]
