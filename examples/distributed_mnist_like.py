"""Data-parallel training of a small CNN on the bundled 8x8 digits.

Run one process per device with torchrun (gloo on CPU, NCCL on GPUs):

    torchrun --nproc_per_node=2 examples/distributed_mnist_like.py

or alone (one process) with ``python examples/distributed_mnist_like.py``. The
code is Keras code: ``batch_size`` is the global batch, each process trains on
its share, and only rank 0 prints and writes files.
"""

import numpy as np
import torch

import lamina as keras
from lamina import layers


def main(epochs=3):
    keras.distribution.initialize()  # reads RANK, WORLD_SIZE, MASTER_ADDR/PORT
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    torch.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = (x_train / 16.0).astype("float32")[..., None]
    x_test = (x_test / 16.0).astype("float32")[..., None]
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(32, 3, padding="same"),
            layers.BatchNormalization(synchronized=True),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=64, verbose=0)
    if keras.distribution.distribution().is_chief:
        processes = keras.distribution.get_device_count()
        print(f"{processes} process(es): test loss {loss:.3f}, accuracy {accuracy:.3f}")
    return np.float32(accuracy)


if __name__ == "__main__":
    main()
