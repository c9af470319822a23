from lamina.layers.core.activation import Activation, Identity
from lamina.layers.core.dense import Dense
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.core.embedding import Embedding
from lamina.layers.core.lambda_layer import Lambda
from lamina.layers.core.masking import Masking
from lamina.layers.core.reversible_embedding import ReversibleEmbedding
from lamina.layers.core.torch_module_wrapper import TorchModuleWrapper
from lamina.layers.core.wrapper import Wrapper

__all__ = [
    "Activation",
    "Dense",
    "EinsumDense",
    "Embedding",
    "Identity",
    "Lambda",
    "Masking",
    "ReversibleEmbedding",
    "TorchModuleWrapper",
    "Wrapper",
]
