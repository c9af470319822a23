"""Input pipelines: ``fit`` for one epoch on ``image_dataset_from_directory`` over
2,000 small PNGs generated into a temporary folder, lamina vs Keras 3 (torch
backend) vs a plain PyTorch loop, on the same batches.

Keras 3's own ``image_dataset_from_directory`` needs TensorFlow (``format="tf"``)
or Grain, neither installed here; Keras's torch backend takes a
``torch.utils.data.DataLoader``, so Keras trains on lamina's dataset (a
``DataLoader``) and the comparison is of the training loops over one pipeline,
plus the pipeline alone (iteration without training). Samples per second, median
of ``--repeat`` epochs after a warm-up epoch, interleaved::

    .venv/bin/python -m bench.cases_data                 # 2,000 images
    .venv/bin/python -m bench.cases_data --workers 2     # DataLoader workers
    .venv/bin/python -m bench.cases_data --smoke         # 40 images, one epoch

Registers no ``registry.Case`` (an epoch over files is not a per-call timing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings

import keras
import numpy as np
import torch
import torch.nn.functional as F

import lamina

SIZE, CLASSES, BATCH = (32, 32), 4, 64


def make_images(root, count, seed=0):
    """``count`` 40x40 RGB PNGs in ``CLASSES`` class folders."""
    rng = np.random.default_rng(seed)
    for c in range(CLASSES):
        os.makedirs(os.path.join(root, f"class_{c}"), exist_ok=True)
    for i in range(count):
        image = rng.integers(0, 255, (40, 40, 3)).astype("float32")
        path = os.path.join(root, f"class_{i % CLASSES}", f"{i:05d}.png")
        lamina.utils.save_img(path, image, scale=False)


def model_for(k):
    model = k.Sequential([
        k.Input(SIZE + (3,)), k.layers.Conv2D(16, 3, activation="relu"), k.layers.MaxPooling2D(2),
        k.layers.Flatten(), k.layers.Dense(CLASSES),
    ])  # fmt: skip
    model.compile("adam", k.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def torch_epoch(dataset, net, optimizer):
    for x, y in dataset:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x.permute(0, 3, 1, 2)), y.long())
        loss.backward()
        optimizer.step()


def runners(dataset):
    lamina_model, keras_model = model_for(lamina), model_for(keras)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 15 * 15, CLASSES),
    )  # fmt: skip
    optimizer = torch.optim.Adam(net.parameters(), eps=1e-7)
    return {
        "pipeline only": lambda: sum(1 for _ in dataset),
        "lamina fit": lambda: lamina_model.fit(dataset, epochs=1, verbose=0),
        "keras fit": lambda: keras_model.fit(dataset, epochs=1, verbose=0),
        "torch loop": lambda: torch_epoch(dataset, net, optimizer),
    }


def main(argv=None):
    """Runs the comparison; returns samples/s per runner."""
    warnings.filterwarnings("ignore", message=".*shuffle=True.*DataLoader")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.images, args.repeat = 40, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as root:
        make_images(root, args.images)
        dataset = lamina.utils.image_dataset_from_directory(
            root, image_size=SIZE, batch_size=BATCH, seed=1, verbose=False,
            num_workers=args.workers,
        )  # fmt: skip
        steps = runners(dataset)
        times = {name: [] for name in steps}
        for _ in range(1 + args.repeat):  # the first round warms up
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    rates = {n: args.images / statistics.median(t[1:] or t) for n, t in times.items()}
    print(f"fit on image_dataset_from_directory: {args.images} PNGs 40x40 -> "
          f"{SIZE}, batch {BATCH}, num_workers={args.workers}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    for name, rate in rates.items():
        print(f"  {name:14s} {rate:9.0f} samples/s")
    print(f"  lamina/keras time ratio: {rates['keras fit'] / rates['lamina fit']:.2f}x")
    return rates


if __name__ == "__main__":
    main()
