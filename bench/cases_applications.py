"""Applications: ``predict`` throughput of MobileNetV2, ResNet50 and
EfficientNetB0 at batch 32.

lamina and Keras 3 run ``keras.applications.X(weights=None)`` with the same
weights through ``model.predict(x, batch_size=32)``; plain PyTorch runs a
hand-written module of the same network (Keras's layout: ResNet v1 with its
strided 1x1 convolutions and biases, MobileNetV2 and EfficientNetB0 with
TensorFlow's asymmetric 'same' padding), channels-last, in ``torch.inference_mode()``, with the same
weights copied in by layer name.

Registered by default at 32x32 (what the benchmark smoke test runs); the
224x224 cases, the ones to quote, with ``LAMINA_BENCH_LARGE=1``:

    LAMINA_BENCH_LARGE=1 .venv/bin/python bench/run.py -k applications
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.cases_core import FRAMEWORKS
from bench.registry import Case, CaseMismatch, Workload, register

BATCH = 32


# ------------------------------------------------------------ torch modules
class Named(nn.Module):
    """Modules registered under Keras's layer names, loaded from a Keras-layout
    model by those names."""

    def conv(self, name, cin, cout, k, stride=1, bias=True, groups=1):
        module = nn.Conv2d(cin, cout, k, stride, bias=bias, groups=groups)
        self.add_module(name, module)
        return module

    def bn(self, name, channels, eps):
        module = nn.BatchNorm2d(channels, eps=eps)
        self.add_module(name, module)
        return module

    def load_from(self, model) -> None:
        with torch.no_grad():
            for name, module in self.named_children():
                weights = [torch.from_numpy(np.asarray(w)) for w in model.get_layer(name).get_weights()]  # fmt: skip
                if isinstance(module, nn.Conv2d):
                    kernel = weights[0]
                    if module.groups > 1:  # depthwise (kh, kw, C, 1)
                        module.weight.copy_(kernel.permute(2, 3, 0, 1))
                    else:
                        module.weight.copy_(kernel.permute(3, 2, 0, 1))
                    if module.bias is not None:
                        module.bias.copy_(weights[1])
                elif isinstance(module, nn.BatchNorm2d):
                    for target, value in zip(
                        (module.weight, module.bias, module.running_mean,
                         module.running_var), weights,
                    ):  # fmt: skip
                        target.copy_(value)
                elif isinstance(module, nn.Linear):
                    module.weight.copy_(weights[0].T)
                    module.bias.copy_(weights[1])


def tf_pad(x):
    """TensorFlow's 'same' padding of a stride-2 3x3 window (Keras's
    ``correct_pad``): one more row/column after than before on even sizes."""
    return F.pad(x, (x.shape[3] % 2, 1, x.shape[2] % 2, 1))


class TorchResNet50(Named):
    EPS = 1.001e-5
    STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))

    def __init__(self):
        super().__init__()
        self.conv("conv1_conv", 3, 64, 7, 2)
        self.bn("conv1_bn", 64, self.EPS)
        self.blocks = []
        cin = 64
        for stage, (filters, blocks, stride) in enumerate(self.STAGES, start=2):
            for i in range(1, blocks + 1):
                name = f"conv{stage}_block{i}"
                s = stride if i == 1 else 1
                if i == 1:
                    self.conv(f"{name}_0_conv", cin, 4 * filters, 1, s)
                    self.bn(f"{name}_0_bn", 4 * filters, self.EPS)
                self.conv(f"{name}_1_conv", cin, filters, 1, s)
                self.bn(f"{name}_1_bn", filters, self.EPS)
                self.conv(f"{name}_2_conv", filters, filters, 3)
                self.bn(f"{name}_2_bn", filters, self.EPS)
                self.conv(f"{name}_3_conv", filters, 4 * filters, 1)
                self.bn(f"{name}_3_bn", 4 * filters, self.EPS)
                self.blocks.append((name, i == 1))
                cin = 4 * filters
        self.add_module("predictions", nn.Linear(2048, 1000))

    def _block(self, x, name, shortcut_conv):
        m = self._modules
        shortcut = m[f"{name}_0_bn"](m[f"{name}_0_conv"](x)) if shortcut_conv else x
        y = F.relu(m[f"{name}_1_bn"](m[f"{name}_1_conv"](x)))
        y = F.relu(m[f"{name}_2_bn"](m[f"{name}_2_conv"](F.pad(y, (1, 1, 1, 1)))))
        y = m[f"{name}_3_bn"](m[f"{name}_3_conv"](y))
        return F.relu(shortcut + y)

    def forward(self, x):
        x = F.pad(x.permute(0, 3, 1, 2), (3, 3, 3, 3))
        x = F.relu(self.conv1_bn(self.conv1_conv(x)))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        for name, shortcut_conv in self.blocks:
            x = self._block(x, name, shortcut_conv)
        return torch.softmax(self.predictions(x.mean((2, 3))), -1)


class TorchMobileNetV2(Named):
    EPS = 1e-3
    # (filters, stride, expansion), as keras.applications.mobilenet_v2.
    BLOCKS = (
        [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6)]
        + [(64, 2, 6)] + [(64, 1, 6)] * 3 + [(96, 1, 6)] * 3
        + [(160, 2, 6)] + [(160, 1, 6)] * 2 + [(320, 1, 6)]
    )  # fmt: skip

    def __init__(self):
        super().__init__()
        self.conv("Conv1", 3, 32, 3, 2, bias=False)
        self.bn("bn_Conv1", 32, self.EPS)
        self.blocks, cin = [], 32
        for block_id, (filters, stride, expansion) in enumerate(self.BLOCKS):
            prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
            hidden = cin * expansion
            if block_id:
                self.conv(f"{prefix}expand", cin, hidden, 1, bias=False)
                self.bn(f"{prefix}expand_BN", hidden, self.EPS)
            self.conv(f"{prefix}depthwise", hidden, hidden, 3, stride, False, hidden)
            self.bn(f"{prefix}depthwise_BN", hidden, self.EPS)
            self.conv(f"{prefix}project", hidden, filters, 1, bias=False)
            self.bn(f"{prefix}project_BN", filters, self.EPS)
            self.blocks.append(
                (prefix, block_id, stride, cin == filters and stride == 1)
            )
            cin = filters
        self.conv("Conv_1", 320, 1280, 1, bias=False)
        self.bn("Conv_1_bn", 1280, self.EPS)
        self.add_module("predictions", nn.Linear(1280, 1000))

    def _block(self, x, prefix, block_id, stride, residual):
        m = self._modules
        y = x
        if block_id:
            y = F.relu6(m[f"{prefix}expand_BN"](m[f"{prefix}expand"](y)))
        y = tf_pad(y) if stride == 2 else F.pad(y, (1, 1, 1, 1))
        y = F.relu6(m[f"{prefix}depthwise_BN"](m[f"{prefix}depthwise"](y)))
        y = m[f"{prefix}project_BN"](m[f"{prefix}project"](y))
        return x + y if residual else y

    def forward(self, x):
        x = F.relu6(self.bn_Conv1(self.Conv1(tf_pad(x.permute(0, 3, 1, 2)))))
        for block in self.blocks:
            x = self._block(x, *block)
        x = F.relu6(self.Conv_1_bn(self.Conv_1(x)))
        return torch.softmax(self.predictions(x.mean((2, 3))), -1)


class TorchEfficientNetB0(Named):
    EPS = 1e-3
    # (kernel, repeats, filters_in, filters_out, expand_ratio, strides) per stage.
    STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
              (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
              (3, 1, 192, 320, 6, 1))  # fmt: skip

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(3))
        self.register_buffer("std", torch.ones(3))
        self.conv("stem_conv", 3, 32, 3, 2, bias=False)
        self.bn("stem_bn", 32, self.EPS)
        self.blocks = []
        for i, (k, repeats, cin, cout, expand, stride) in enumerate(self.STAGES):
            for j in range(repeats):
                cin, stride = (cout, 1) if j else (cin, stride)
                self._add_block(f"block{i + 1}{chr(97 + j)}_", k, cin, cout, expand,
                                stride)  # fmt: skip
        self.conv("top_conv", 320, 1280, 1, bias=False)
        self.bn("top_bn", 1280, self.EPS)
        self.add_module("predictions", nn.Linear(1280, 1000))

    def _add_block(self, name, k, cin, cout, expand, stride):
        filters = cin * expand
        if expand != 1:
            self.conv(f"{name}expand_conv", cin, filters, 1, bias=False)
            self.bn(f"{name}expand_bn", filters, self.EPS)
        self.conv(f"{name}dwconv", filters, filters, k, stride, False, filters)
        self.bn(f"{name}bn", filters, self.EPS)
        self.conv(f"{name}se_reduce", filters, max(1, int(cin * 0.25)), 1)
        self.conv(f"{name}se_expand", max(1, int(cin * 0.25)), filters, 1)
        self.conv(f"{name}project_conv", filters, cout, 1, bias=False)
        self.bn(f"{name}project_bn", cout, self.EPS)
        self.blocks.append((name, k, expand, stride, stride == 1 and cin == cout))

    def load_from(self, model) -> None:
        super().load_from(model)
        (norm,) = [layer for layer in model.layers if type(layer).__name__ == "Normalization"]  # fmt: skip
        mean, variance = norm.get_weights()[:2]
        with torch.no_grad():
            self.mean.copy_(torch.from_numpy(np.asarray(mean)))
            self.std.copy_(
                torch.from_numpy(np.asarray(variance)).sqrt().clamp_min(1e-7)
            )

    def _block(self, x, name, k, expand, stride, residual):
        m = self._modules
        y = (
            F.silu(m[f"{name}expand_bn"](m[f"{name}expand_conv"](x)))
            if expand != 1
            else x
        )
        if stride == 2:  # TensorFlow's 'same': the extra row/column after
            y = F.pad(y, (k // 2 - 1 + y.shape[3] % 2, k // 2,
                          k // 2 - 1 + y.shape[2] % 2, k // 2))  # fmt: skip
        else:
            y = F.pad(y, (k // 2,) * 4)
        y = F.silu(m[f"{name}bn"](m[f"{name}dwconv"](y)))
        se = F.silu(m[f"{name}se_reduce"](y.mean((2, 3), keepdim=True)))
        y = y * torch.sigmoid(m[f"{name}se_expand"](se))
        y = m[f"{name}project_bn"](m[f"{name}project_conv"](y))
        return x + y if residual else y

    def forward(self, x):
        x = ((x / 255.0 - self.mean) / self.std).permute(0, 3, 1, 2)
        x = F.silu(self.stem_bn(self.stem_conv(tf_pad(x))))
        for block in self.blocks:
            x = self._block(x, *block)
        x = F.silu(self.top_bn(self.top_conv(x)))
        return torch.softmax(self.predictions(x.mean((2, 3))), -1)


# ------------------------------------------------------------------ cases
def _randomize(model, rng) -> list[np.ndarray]:
    """Weights of a moderate scale, batch norm statistics included, so the
    outputs of the three implementations are worth comparing."""
    weights = []
    for w in model.get_weights():
        w = np.asarray(w)
        weights.append(rng.uniform(0.5, 1.5, w.shape).astype("float32")
                       if w.ndim == 1 else (rng.standard_normal(w.shape) * np.sqrt(
                           2.0 / np.prod(w.shape[:-1]))).astype("float32"))  # fmt: skip
    return weights


def application_case(fn, torch_module, size):
    """``predict`` of ``fn`` on a batch of 32 ``size``x``size`` images."""
    shape = (BATCH, size, size, 3)

    def setup(rng) -> Workload:
        return {"x": rng.uniform(-1, 1, shape).astype("float32"), "rng": rng}

    def framework(impl):
        def build(w: Workload):
            model = getattr(FRAMEWORKS[impl].applications, fn)(
                weights=None, input_shape=shape[1:]
            )
            if "weights" not in w:
                w["weights"] = _randomize(model, w["rng"])
            model.set_weights(w["weights"])
            w.setdefault("model", model)
            return lambda: model.predict(w["x"], batch_size=BATCH, verbose=0)

        return build

    def torch_build(w: Workload):
        module = torch_module().eval().to(memory_format=torch.channels_last)
        module.load_from(w["model"])

        def step():
            with torch.inference_mode():
                return module(torch.from_numpy(w["x"])).numpy()

        return step

    register(
        Case(
            name=f"applications_{fn.lower()}_predict_b{BATCH}_{size}",
            setup=setup,
            lamina=framework("lamina"),
            keras=framework("keras"),
            torch=torch_build,
            check=check_predictions,
        )
    )


def check_predictions(workload, outputs) -> None:
    """Softmax outputs: equal to 1e-4 (the applications tests' tolerance)."""
    reference = outputs["torch"][0]
    for impl, arrays in outputs.items():
        error = np.max(np.abs(arrays[0] - reference))
        if arrays[0].shape != reference.shape or error > 1e-4:
            raise CaseMismatch(f"{impl} predictions differ from torch by {error:.3g}")


SIZES = (224,) if os.environ.get("LAMINA_BENCH_LARGE", "") not in ("", "0") else (32,)
for _size in SIZES:
    application_case("MobileNetV2", TorchMobileNetV2, _size)
    application_case("ResNet50", TorchResNet50, _size)
    application_case("EfficientNetB0", TorchEfficientNetB0, _size)
