from lamina.layers.regularization.activity_regularization import ActivityRegularization
from lamina.layers.regularization.dropout import (
    Dropout,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from lamina.layers.regularization.noise import GaussianDropout, GaussianNoise

__all__ = [
    "ActivityRegularization",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]
