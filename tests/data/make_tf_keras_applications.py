"""Write the Keras 2 (tf-keras) application file that tests/test_applications.py
loads: a MobileNet (alpha=0.25, 32x32 inputs, 10 classes) saved whole as a Keras 2
``.h5`` model, with random weights (batch norm statistics calibrated on random images) and tf-keras's
predictions on a fixed batch.

Run by hand, never in CI, with tf-keras in a separate environment (lamina never
imports it):

    python3 -m venv /tmp/tfk
    /tmp/tfk/bin/pip install tensorflow-cpu tf-keras h5py
    /tmp/tfk/bin/python tests/data/make_tf_keras_applications.py

The committed files were made this way with TensorFlow 2.21.0 and tf-keras 2.21.0
(Python 3.11, CPU).
"""

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def calibrate(model, x, rng):
    """Batch norms whose moving statistics are those of a calibration batch
    (with a little noise) and random scales and offsets, so the signal neither
    dies nor explodes through the random network."""
    for layer in model.layers:
        if not isinstance(layer, tf_keras.layers.BatchNormalization):
            continue
        features = tf_keras.Model(model.input, layer.input).predict(x, verbose=0)
        axes = tuple(range(features.ndim - 1))
        gamma, beta = (rng.uniform(0.8, 1.2, features.shape[-1]),
                       rng.normal(0.0, 0.1, features.shape[-1]))  # fmt: skip
        mean, var = features.mean(axes), features.var(axes)
        layer.set_weights([gamma, beta, mean + rng.normal(0.0, 0.01, mean.shape),
                           var * rng.uniform(0.9, 1.1, var.shape)])  # fmt: skip


def main():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = tf_keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=10
    )
    calibrate(model, rng.uniform(-1.0, 1.0, (16, 32, 32, 3)).astype("float32"), rng)
    x = rng.uniform(-1.0, 1.0, (2, 32, 32, 3)).astype("float32")
    y = model.predict(x, verbose=0)
    model.save(os.path.join(HERE, "tf_keras_mobilenet.h5"), save_format="h5")
    np.savez(os.path.join(HERE, "tf_keras_mobilenet.npz"), x=x, y=y)


if __name__ == "__main__":
    main()
