"""``lamina`` command line: ``lamina demo``, ``lamina summary FILE``,
``lamina export MODEL.keras OUT.onnx``."""

from __future__ import annotations

import argparse
import sys
import time

import torch

import lamina as keras
from lamina import layers
from lamina.saving.file_io import FileFormatError
from lamina.saving.saving_api import load_model


def demo() -> int:
    """Keras code, run by lamina: a small CNN learns the bundled 8x8 digits."""
    start = time.perf_counter()
    torch.manual_seed(0)
    print(f"lamina {keras.__version__} on torch {torch.__version__}\n")
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = (x_train / 16.0).astype("float32")[..., None]  # (1437, 8, 8, 1)
    x_test = (x_test / 16.0).astype("float32")[..., None]
    print(f"digits: {len(x_train)} training and {len(x_test)} test images, 8x8\n")

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(10, activation="softmax"),
        ],
        name="digits_cnn",
    )
    model.summary()
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(
        x_train, y_train, batch_size=32, epochs=12, validation_split=0.1, verbose=1
    )
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"\ntest accuracy: {accuracy:.2%} (loss {loss:.4f})")

    probabilities = model.predict(x_test[:8], verbose=0)
    print("predicted:", probabilities.argmax(axis=1).tolist())
    print("actual:   ", y_test[:8].tolist())

    print("\nA lamina model is a torch.nn.Module:")
    print("  parameters:", sum(p.numel() for p in model.parameters()))
    print("  state_dict keys:", list(model.state_dict())[:4], "...")
    print(f"\ndone in {time.perf_counter() - start:.1f}s")
    return 0 if accuracy > 0.95 else 1


def summary(path: str, safe_mode: bool = True) -> int:
    """Print the summary of a saved model (``.keras``, Keras 1/2 ``.h5``, JSON)."""
    try:
        model = load_model(path, compile=False, safe_mode=safe_mode)
    except (FileNotFoundError, FileFormatError, ValueError) as e:
        print(f"lamina summary: {e}", file=sys.stderr)
        return 1
    model.summary()
    return 0


def export(path: str, out: str, safe_mode: bool = True, opset=None) -> int:
    """Export a saved model to ONNX (``OUT.onnx``) or a ``torch.export`` program
    (``OUT.pt2``), chosen by the output's suffix."""
    fmt = "torch" if out.endswith(".pt2") else "onnx"
    try:
        model = load_model(path, compile=False, safe_mode=safe_mode)
        kwargs = {"opset_version": opset} if opset else {}
        model.export(out, format=fmt, verbose=False, **kwargs)
    except (FileNotFoundError, FileFormatError, ValueError) as e:
        print(f"lamina export: {e}", file=sys.stderr)
        return 1
    print(f"lamina export: wrote {out} ({fmt}) from {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="build, summarize and run a Keras-style model")
    summary_parser = commands.add_parser(
        "summary", help="print the summary of a saved model file"
    )
    summary_parser.add_argument("file", help=".keras, Keras 1/2 .h5 or JSON model")
    summary_parser.add_argument(
        "--unsafe",
        action="store_true",
        help="allow Lambda bytecode (only for files you trust)",
    )
    export_parser = commands.add_parser(
        "export", help="export a saved model to ONNX (.onnx) or torch.export (.pt2)"
    )
    export_parser.add_argument("file", help=".keras, Keras 1/2 .h5 or JSON model")
    export_parser.add_argument("out", help="the file to write: OUT.onnx or OUT.pt2")
    export_parser.add_argument("--opset", type=int, help="ONNX opset (default 18)")
    export_parser.add_argument(
        "--unsafe",
        action="store_true",
        help="allow Lambda bytecode (only for files you trust)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    if args.command == "summary":
        return summary(args.file, safe_mode=not args.unsafe)
    if args.command == "export":
        return export(args.file, args.out, not args.unsafe, args.opset)
    return 2


if __name__ == "__main__":
    sys.exit(main())
