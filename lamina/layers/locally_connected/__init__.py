"""Locally-connected layers: convolutions whose weights are not shared."""

from lamina.layers.locally_connected.base_locally_connected import (
    BaseLocallyConnected as BaseLocallyConnected,
)
from lamina.layers.locally_connected.base_locally_connected import (
    convert_weights as convert_weights,
)
from lamina.layers.locally_connected.locally_connected1d import LocallyConnected1D
from lamina.layers.locally_connected.locally_connected2d import LocallyConnected2D
from lamina.layers.locally_connected.locally_connected3d import LocallyConnected3D

__all__ = ["LocallyConnected1D", "LocallyConnected2D", "LocallyConnected3D"]
