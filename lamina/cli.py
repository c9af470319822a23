"""``lamina`` command line: ``lamina demo``."""

from __future__ import annotations

import argparse
import sys
import time


def demo() -> int:
    """Keras code, run by lamina: build, inspect, predict, and use as a torch module."""
    import numpy as np
    import torch

    import lamina as keras
    from lamina import layers

    print(f"lamina {keras.__version__} on torch {torch.__version__}\n")
    model = keras.Sequential(
        [
            layers.Dense(64, activation="relu", input_shape=(32,)),
            layers.Dropout(0.2),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="classifier",
    )
    model.summary()

    inputs = keras.Input((16,), name="features")
    hidden = layers.Dense(32, activation="tanh", name="shared")
    left = hidden(inputs)
    right = layers.Lambda(lambda x: -x, name="negate")(left)
    outputs = [layers.Dense(1, name="score")(left), layers.Dense(3, name="tags")(right)]
    graph = keras.Model(inputs, outputs, name="two_heads")
    graph.summary()

    x = np.random.default_rng(0).standard_normal((8, 32)).astype("float32")
    probabilities = model.predict(x)
    print(f"\npredict -> {probabilities.shape}, rows sum to "
          f"{probabilities.sum(axis=1).round(4).tolist()[:3]} ...")
    print(f"layer 'shared' input_shape={hidden.input_shape} "
          f"output_shape={hidden.output_shape}")

    print("\nA lamina model is a torch.nn.Module:")
    print("  state_dict keys:", list(model.state_dict())[:4], "...")
    sample = torch.from_numpy(x[:1])
    with torch.no_grad():
        model(sample)
        start = time.perf_counter()
        for _ in range(1000):
            model(sample)
        per_call = (time.perf_counter() - start) / 1000 * 1e6
    print(f"  batch-1 model(x): {per_call:.1f} us per call (see bench/ for comparisons)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="build, summarize and run a Keras-style model")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
