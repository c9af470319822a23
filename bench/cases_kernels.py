"""The slow kernels of issue 17 at the issue's own shapes, forward+backward:
Conv2DTranspose(32, 3, strides 2), DepthwiseConv2D(3), MaxPooling2D(2),
Embedding(10000, 128), LSTM(128) and Dense(1024).

The spatial layers run twice: on channels_last data (``[nhwc]``; plain torch on
permuted views, i.e. torch's channels-last kernels) and on the same workload in
channels_first (``[nchw]``; plain torch in its native NCHW layout), so one run
gives lamina, Keras 3, plain torch channels_last and plain torch NCHW side by
side. (The smaller shapes of the other families' files stay as they are.)

    .venv/bin/python bench/run.py -k issue17
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import nn

from bench.cases_conv import Baseline, both_layouts, load, to_torch
from bench.cases_core import dense_weights, layer_case, torch_linear
from bench.cases_pooling import nchw, pooling_case
from bench.cases_rnn import embedding_step, recurrent_setup, torch_rnn
from bench.registry import Case, Workload, register

IMAGES = (32, 64, 64, 32)  # channels_last
TRANSPOSE_IMAGES = (32, 32, 32, 64)


def transpose_torch(w, channels_last):
    """ConvTranspose2d(3, stride 2) computed in full and cropped to TensorFlow's
    ``same`` window: the first 2n cells of the 2n + 1."""
    kernel, bias = w["weights"]
    filters, channels = kernel.shape[-2:]
    conv = nn.ConvTranspose2d(channels, filters, 3, stride=2)
    load(conv, to_torch(kernel), bias)
    size = 2 * TRANSPOSE_IMAGES[1]
    crop = (..., slice(0, size), slice(0, size))
    return Baseline(2, conv, channels_last=channels_last, crop=crop)


both_layouts(
    "issue17_conv2d_transpose_fwd_bwd",
    TRANSPOSE_IMAGES,
    lambda k, data_format: k.layers.Conv2DTranspose(
        32, 3, strides=2, padding="same", data_format=data_format
    ),
    transpose_torch,
    [(3, 3, 32, 64), (32,)],
)


def depthwise_torch(w, channels_last):
    kernel, bias = w["weights"]
    channels = kernel.shape[-2]
    conv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
    load(conv, to_torch(kernel.reshape(3, 3, 1, channels)), bias)
    return Baseline(2, conv, channels_last=channels_last)


both_layouts(
    "issue17_depthwise_conv2d_fwd_bwd",
    IMAGES,
    lambda k, data_format: k.layers.DepthwiseConv2D(
        3, padding="same", data_format=data_format
    ),
    depthwise_torch,
    [(3, 3, 32, 1), (32,)],
)


POOLED = (IMAGES[0], IMAGES[1] // 2, IMAGES[2] // 2, IMAGES[3])
pooling_case(
    "issue17_max_pooling2d_fwd_bwd[nhwc]",
    IMAGES,
    POOLED,
    lambda k: k.layers.MaxPooling2D(2),
    nchw(lambda x: F.max_pool2d(x, 2)),
)
pooling_case(
    "issue17_max_pooling2d_fwd_bwd[nchw]",
    (IMAGES[0], IMAGES[3], *IMAGES[1:3]),
    (POOLED[0], POOLED[3], *POOLED[1:3]),
    lambda k: k.layers.MaxPooling2D(2, data_format="channels_first"),
    lambda x: F.max_pool2d(x, 2),
)


def embedding_setup(rng: np.random.Generator) -> Workload:
    return {
        "indices": rng.integers(0, 10000, (256, 100)),
        "table": rng.uniform(-0.05, 0.05, (10000, 128)).astype(np.float32),
    }


register(
    Case(
        name="issue17_embedding_fwd_bwd",
        setup=embedding_setup,
        lamina=embedding_step("lamina"),
        keras=embedding_step("keras"),
        torch=embedding_step("torch"),
    )
)

layer_case(
    "issue17_lstm_fwd_bwd",
    (64, 100, 64),
    lambda k: k.layers.LSTM(128),
    torch_rnn("lstm"),
    setup=recurrent_setup(4, (4 * 128,)),
)


def dense_setup(rng: np.random.Generator) -> Workload:
    return {
        "x": rng.standard_normal((1024, 1024), dtype=np.float32),
        "weights": dense_weights(rng, (1024, 1024)),
    }


layer_case(
    "issue17_dense_fwd_bwd",
    (1024, 1024),
    lambda k: k.layers.Dense(1024),
    torch_linear,
    setup=dense_setup,
)
