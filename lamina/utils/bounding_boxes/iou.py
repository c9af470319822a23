"""Intersection over union of bounding boxes: ``compute_iou`` (pairwise) and
``compute_ciou`` (complete IoU, element-wise)."""

from __future__ import annotations

import math

import torch

from lamina import config
from lamina.utils.bounding_boxes.converters import as_boxes, convert_format


def _area(yxyx):
    return (yxyx[..., 2] - yxyx[..., 0]) * (yxyx[..., 3] - yxyx[..., 1])


def _intersection(boxes1, boxes2):
    """``[..., N, M]`` pairwise intersection areas of yxyx boxes."""
    b2 = boxes2.unsqueeze(-3)
    b1 = boxes1.unsqueeze(-2)
    height = torch.minimum(b1[..., 2], b2[..., 2]) - torch.maximum(
        b1[..., 0], b2[..., 0]
    )
    width = torch.minimum(b1[..., 3], b2[..., 3]) - torch.maximum(
        b1[..., 1], b2[..., 1]
    )
    return height.clamp(min=0) * width.clamp(min=0)


def _check_rank(boxes, arg, other):
    if boxes.ndim not in (2, 3):
        raise ValueError(
            f"compute_iou: `{arg}` must be boxes (N, 4) or batched boxes "
            f"(batch, N, 4); got {arg} of shape {tuple(boxes.shape)} ({other})."
        )


def compute_iou(
    boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1,
    image_shape=None,
):  # fmt: skip
    """Pairwise IoU: ``[N, M]``, or ``[batch, N, M]`` when either is batched.

    Args:
        boxes1: ``(N, 4)`` or ``(batch, N, 4)`` boxes.
        boxes2: ``(M, 4)`` or ``(batch, M, 4)`` boxes.
        bounding_box_format: the boxes' format (see ``convert_format``).
        use_masking: give ``mask_val`` to pairs where a box has all coordinates
            below 0 (padding).
        mask_val: the value of masked pairs.
        image_shape: ``(height, width, channels)``, needed by relative formats.

    Example:
    >>> import lamina as keras
    >>> keras.utils.bounding_boxes.compute_iou(
    ...     [[0.0, 0.0, 2.0, 2.0]], [[1.0, 0.0, 3.0, 2.0]], "xyxy").tolist()
    [[0.3333333432674408]]
    """
    boxes1, boxes2 = as_boxes(boxes1), as_boxes(boxes2)
    _check_rank(boxes1, "boxes1", f"boxes2 of shape {tuple(boxes2.shape)}")
    _check_rank(boxes2, "boxes2", f"boxes1 of shape {tuple(boxes1.shape)}")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "compute_iou: `image_shape` must be given for a relative format; got "
            f"bounding_box_format={bounding_box_format!r} and image_shape=None."
        )
    height, width = (None, None) if image_shape is None else tuple(image_shape[:2])
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width)
    intersection = _intersection(boxes1, boxes2)
    union = _area(boxes1).unsqueeze(-1) + _area(boxes2).unsqueeze(-2) - intersection
    iou = intersection / (union + config.epsilon())
    if not use_masking:
        return iou
    background = (boxes1.amax(-1) < 0).unsqueeze(-1) | (boxes2.amax(-1) < 0).unsqueeze(
        -2
    )
    return torch.where(background, torch.full_like(iou, float(mask_val)), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """Complete IoU of corresponding boxes (``(..., 4)`` each): IoU minus the
    normalized centre distance and an aspect-ratio penalty (Zheng et al.).

    Example:
    >>> import lamina as keras
    >>> round(float(keras.utils.bounding_boxes.compute_ciou(
    ...     [[0.0, 0.0, 2.0, 2.0]], [[0.0, 0.0, 2.0, 2.0]], "xyxy")[0]), 4)
    1.0
    """
    if "rel" in bounding_box_format:
        raise ValueError(
            "compute_ciou: `bounding_box_format` must be an absolute format (Keras "
            f"refuses relative ones here); got bounding_box_format={bounding_box_format!r}."
        )
    height, width = (None, None) if image_shape is None else tuple(image_shape[:2])
    b1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    b2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width)
    eps = config.epsilon()
    x1a, y1a, x2a, y2a = torch.unbind(b1, -1)
    x1b, y1b, x2b, y2b = torch.unbind(b2, -1)
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    inter = (torch.minimum(x2a, x2b) - torch.maximum(x1a, x1b)).clamp(min=0) * (
        torch.minimum(y2a, y2b) - torch.maximum(y1a, y1b)
    ).clamp(min=0)
    iou = inter / (w1 * h1 + w2 * h2 - inter + eps + eps)
    diagonal = (
        (torch.maximum(x2a, x2b) - torch.minimum(x1a, x1b)) ** 2
        + (torch.maximum(y2a, y2b) - torch.minimum(y1a, y1b)) ** 2
        + eps
    )
    centres = ((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2 + (
        (y1a + y2a) / 2 - (y1b + y2b) / 2
    ) ** 2
    v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    alpha = v / (v - iou + (1 + eps))
    return iou - (centres / diagonal + v * alpha)
