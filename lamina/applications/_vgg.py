"""VGG16 and VGG19 (Simonyan & Zisserman, 2014): five blocks of 3x3
convolutions, each closed by a 2x2 max pooling."""

from __future__ import annotations

from lamina import layers
from lamina.applications import _builder

WIDTHS = (64, 128, 256, 512, 512)


def build(req, depths, weight_file):
    """A VGG whose block ``i`` has ``depths[i]`` convolutions."""

    def body(x):
        for block, (width, depth) in enumerate(zip(WIDTHS, depths), start=1):
            for conv in range(1, depth + 1):
                x = layers.Conv2D(width, (3, 3), activation="relu", padding="same",
                                  name=f"block{block}_conv{conv}")(x)  # fmt: skip
            x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(
                x
            )
        return x

    return _builder.build(req, body, top, weight_file=weight_file)


def top(req, x):
    if not req.include_top:
        return _builder.pooled(x, req.pooling)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    return layers.Dense(
        req.classes, activation=req.classifier_activation, name="predictions"
    )(x)
