"""Writes tf_keras_locally_connected.npz: tf.keras 2's own LocallyConnected1D/2D
(weights from its initializers, outputs, input gradients) for the layouts test in
tests/test_locally_connected.py. Needs tensorflow and tf-keras 2.15, which lamina
never imports; run it with a Python that has them:

    /path/to/tf/python tests/data/make_tf_keras_locally_connected.py
"""

import json
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras

# (layer, input shape, kwargs), each run with implementations 1 (valid only), 2, 3
CASES = [
    ("LocallyConnected1D", (2, 7, 3), dict(filters=2, kernel_size=3, strides=2)),
    (
        "LocallyConnected1D",
        (2, 3, 6),
        dict(filters=2, kernel_size=2, data_format="channels_first"),
    ),
    ("LocallyConnected1D", (2, 6, 2), dict(filters=3, kernel_size=4, padding="same")),
    (
        "LocallyConnected2D",
        (2, 5, 4, 2),
        dict(filters=2, kernel_size=(3, 2), strides=(2, 1)),
    ),
    (
        "LocallyConnected2D",
        (2, 2, 5, 5),
        dict(filters=3, kernel_size=2, data_format="channels_first"),
    ),
    (
        "LocallyConnected2D",
        (2, 2, 5, 4),
        dict(
            filters=2,
            kernel_size=(2, 3),
            padding="same",
            strides=(2, 1),
            data_format="channels_first",
        ),
    ),
]


def main():
    tf.keras.utils.set_random_seed(0)
    arrays, index = {}, []
    for case_id, (name, shape, kwargs) in enumerate(CASES):
        for impl in (1, 2, 3):
            if impl == 1 and kwargs.get("padding") == "same":
                continue
            layer = getattr(tf_keras.layers, name)(implementation=impl, **kwargs)
            layer.build(shape)
            # random biases too (tf.keras initializes them to zeros)
            layer.bias.assign(tf.random.normal(layer.bias.shape))
            x = tf.random.normal(shape)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(y * tf.cos(y))
            key = f"{case_id}_{impl}"
            arrays[f"{key}_x"] = x.numpy()
            arrays[f"{key}_kernel"] = layer.kernel.numpy()
            arrays[f"{key}_bias"] = layer.bias.numpy()
            arrays[f"{key}_y"] = y.numpy()
            arrays[f"{key}_dx"] = tape.gradient(loss, x).numpy()
            index.append(
                {
                    "key": key,
                    "layer": name,
                    "input_shape": shape,
                    "kwargs": kwargs,
                    "implementation": impl,
                    "count_params": layer.count_params(),
                    "config": layer.get_config(),
                }
            )
    arrays["index"] = np.array(json.dumps(index))
    out = Path(__file__).with_name("tf_keras_locally_connected.npz")
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({len(index)} layers)")


if __name__ == "__main__":
    main()
