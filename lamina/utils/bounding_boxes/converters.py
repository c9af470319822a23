"""Bounding-box formats and the transforms of boxes that follow image transforms.

Formats (Keras's names): ``xyxy`` (corners), ``yxyx``, ``xywh`` (corner, size),
``center_xywh``, ``center_yxhw``, and the relative ``rel_xyxy``, ``rel_yxyx``,
``rel_xywh``, ``rel_center_xywh`` (coordinates divided by the image's width and
height). Every conversion goes through ``xyxy``, as in Keras. Inputs may be NumPy
arrays or tensors; results are torch tensors.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from lamina import config
from lamina.ops.dtypes import to_torch_dtype
from lamina.utils.validation import arg_error

SUPPORTED_FORMATS = (
    "xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
    "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh",
)  # fmt: skip


def as_boxes(value, dtype=None):
    """A tensor from a tensor, array (any strides) or nested list."""
    if isinstance(value, np.ndarray):
        value = np.ascontiguousarray(value)
    tensor = torch.as_tensor(value)
    return tensor if dtype is None else tensor.to(dtype)


def _split(boxes):
    return torch.unbind(boxes[..., :4], dim=-1)


def _join(*parts):
    return torch.stack(parts, dim=-1)


def _centre_to_corners(cx, cy, w, h):
    return _join(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)


def _to_xyxy(fmt, boxes):
    a, b, c, d = _split(boxes)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return _join(b, a, d, c)
    if fmt == "xywh":
        return _join(a, b, a + c, b + d)
    if fmt == "center_xywh":
        return _centre_to_corners(a, b, c, d)
    return _centre_to_corners(b, a, d, c)  # center_yxhw


def _xyxy_to(fmt, boxes):
    x1, y1, x2, y2 = _split(boxes)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return _join(y1, x1, y2, x2)
    if fmt == "xywh":
        return _join(x1, y1, x2 - x1, y2 - y1)
    cx, cy = x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0
    if fmt == "center_xywh":
        return _join(cx, cy, x2 - x1, y2 - y1)
    return _join(cy, cx, y2 - y1, x2 - x1)  # center_yxhw


def _scale(boxes, fmt, height, width, inverse=False):
    """Relative <-> absolute for the base format ``fmt`` (x scales by width)."""
    xs = {"xyxy": (0, 2), "yxyx": (1, 3), "xywh": (0, 2), "center_xywh": (0, 2)}[fmt]
    factors = torch.stack([width if i in xs else height for i in range(4)]).to(
        boxes.dtype
    )
    return boxes / factors if inverse else boxes * factors


def _check_format(owner, arg, fmt):
    value = str(fmt).lower()
    if value not in SUPPORTED_FORMATS:
        raise arg_error(owner, arg, "one of " + ", ".join(SUPPORTED_FORMATS), fmt)
    return value


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """Boxes converted from format ``source`` to format ``target``.

    Args:
        boxes: ``(..., 4)`` boxes, or a dict whose ``"boxes"`` entry is converted
            (the dict is updated and returned, as in Keras).
        source: the boxes' format (see the module docstring).
        target: the format to return.
        height: the image height (needed by relative formats).
        width: the image width (needed by relative formats).
        dtype: the result's dtype.

    Returns:
        The converted boxes (a torch tensor).

    Raises:
        ValueError: for an unknown format, a last axis other than 4, or a
            relative format without ``height`` and ``width``.

    Example:
    >>> import lamina as keras
    >>> keras.utils.bounding_boxes.convert_format(
    ...     [[10.0, 20.0, 30.0, 60.0]], "xyxy", "center_xywh").tolist()
    [[20.0, 40.0, 20.0, 40.0]]
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(
            boxes["boxes"], source, target, height, width, dtype
        )
        return boxes
    owner = "convert_format"
    source = _check_format(owner, "source", source)
    target = _check_format(owner, "target", target)
    boxes = as_boxes(boxes, to_torch_dtype(dtype))
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(
            f"{owner}: `boxes` must have a last axis of 4; got boxes of shape "
            f"{tuple(boxes.shape)}."
        )
    relative = source.startswith("rel_") or target.startswith("rel_")
    if relative and (height is None or width is None):
        raise ValueError(
            f"{owner}: `height` and `width` must be given to convert between "
            f"relative and absolute formats; got source={source!r}, "
            f"target={target!r}, height={height!r}, width={width!r}."
        )
    if source == target:
        return boxes
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    if relative:
        height, width = (torch.as_tensor(v, dtype=boxes.dtype) for v in (height, width))
    if source.startswith("rel_"):
        source = source[4:]
        boxes = _scale(boxes, source, height, width)
    xyxy = _to_xyxy(source, boxes)
    if target.startswith("rel_"):
        base = target[4:]
        return _scale(_xyxy_to(base, xyxy), base, height, width, inverse=True)
    return _xyxy_to(target, xyxy)


def clip_to_image_size(
    bounding_boxes, height=None, width=None, bounding_box_format="xyxy"
):
    """``bounding_boxes`` (a dict with ``"boxes"`` and optional ``"labels"``) with
    the boxes clipped to the image (``xyxy``: to ``[0, width] x [0, height]``;
    ``rel_xyxy``: to ``[0, 1]``); boxes left with no area get the label -1.

    Example:
    >>> import lamina as keras
    >>> out = keras.utils.bounding_boxes.clip_to_image_size(
    ...     {"boxes": [[-5.0, 2.0, 50.0, 8.0]], "labels": [3]}, height=10, width=20)
    >>> out["boxes"].tolist(), out["labels"].tolist()
    ([[0.0, 2.0, 20.0, 8.0]], [3])
    """
    owner = "clip_to_image_size"
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise arg_error(owner, "bounding_box_format", "'xyxy' or 'rel_xyxy'",
                        bounding_box_format, NotImplementedError)  # fmt: skip
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError(
            f"{owner}: `height` and `width` must be given for the 'xyxy' format; "
            f"got height={height!r}, width={width!r}."
        )
    boxes = as_boxes(bounding_boxes["boxes"])
    if not boxes.is_floating_point():
        boxes = boxes.to(to_torch_dtype(config.floatx()))
    high_x, high_y = (
        (1.0, 1.0) if bounding_box_format == "rel_xyxy" else (width, height)
    )
    x1, y1, x2, y2 = _split(boxes)
    boxes = _join(x1.clamp(0, high_x), y1.clamp(0, high_y), x2.clamp(0, high_x),
                  y2.clamp(0, high_y))  # fmt: skip
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if bounding_boxes.get("labels") is not None:
        labels = as_boxes(bounding_boxes["labels"])
        areas = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
        result["labels"] = torch.where(areas > 0, labels, torch.full_like(labels, -1))
    return result


def _xyxy_only(owner, bounding_box_format):
    if bounding_box_format != "xyxy":
        raise arg_error(owner, "bounding_box_format", "'xyxy'", bounding_box_format,
                        NotImplementedError)  # fmt: skip


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """``xyxy`` boxes moved into the crop window at ``(top, left)`` of size
    ``height x width`` and clipped to it.

    Example:
    >>> import lamina as keras
    >>> keras.utils.bounding_boxes.crop([[10.0, 10.0, 40.0, 40.0]], 5, 5, 20, 20).tolist()
    [[5.0, 5.0, 20.0, 20.0]]
    """
    _xyxy_only("crop", bounding_box_format)
    x1, y1, x2, y2 = _split(as_boxes(boxes))
    return _join((x1 - left).clamp(0, width), (y1 - top).clamp(0, height),
                 (x2 - left).clamp(0, width), (y2 - top).clamp(0, height))  # fmt: skip


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """``xyxy`` boxes shifted by the padding added at the ``top`` and ``left``
    (``height`` and ``width`` are accepted as Keras does, unused).

    Example:
    >>> import lamina as keras
    >>> keras.utils.bounding_boxes.pad([[1.0, 2.0, 3.0, 4.0]], top=10, left=5).tolist()
    [[6.0, 12.0, 8.0, 14.0]]
    """
    _xyxy_only("pad", bounding_box_format)
    x1, y1, x2, y2 = _split(as_boxes(boxes))
    return _join(x1 + left, y1 + top, x2 + left, y2 + top)


def _inverse_affine_matrix(center_x, center_y, angle, translate_x, translate_y,
                           scale, shear_x, shear_y, height, width):  # fmt: skip
    """Per-image ``(batch, 2, 3)`` matrices mapping output pixels to input pixels
    for Keras's ``RandomAffine`` parametrization (degrees, fractions of the
    size); ``affine_transform`` applies them to box corners, as Keras does."""
    rot = -angle * (math.pi / 180.0)
    sx, sy = -shear_x * (math.pi / 180.0), -shear_y * (math.pi / 180.0)
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    tx, ty = -translate_x * (width - 1), -translate_y * (height - 1)
    a = torch.cos(rot - sy) / torch.cos(sy)
    b = a * torch.tan(sx) + torch.sin(rot)
    c = -torch.sin(rot - sy) / torch.cos(sy)
    d = torch.cos(rot) - c * torch.tan(sx)
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    return torch.stack([a0, a1, a2, b0, b1, b2], dim=-1).reshape(-1, 2, 3)


def affine_transform(
    boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width,
    center_x=None, center_y=None, bounding_box_format="xyxy",
):  # fmt: skip
    """Batched ``xyxy`` boxes ``(batch, boxes, 4)`` moved by per-image affine
    transforms (``angle``, ``shear_x``, ``shear_y`` in degrees; ``translate_*``
    and ``center_*`` (default 0.5) in fractions of the image size; all of shape
    ``(batch,)``): each box becomes the bounding box of its four transformed
    corners.

    Example:
    >>> import torch, lamina as keras
    >>> zero, one = torch.zeros(1), torch.ones(1)
    >>> keras.utils.bounding_boxes.affine_transform(
    ...     torch.tensor([[[0.0, 0.0, 2.0, 2.0]]]), zero, zero + 0.5, zero, one,
    ...     zero, zero, height=5, width=5).tolist()
    [[[2.0, 0.0, 4.0, 2.0]]]
    """
    _xyxy_only("affine_transform", bounding_box_format)
    angle = torch.as_tensor(angle)
    dtype = angle.dtype if angle.is_floating_point() else torch.float32
    values = [torch.as_tensor(v, dtype=dtype) for v in
              (angle, translate_x, translate_y, scale, shear_x, shear_y)]  # fmt: skip
    centre = [
        torch.as_tensor(0.5 if v is None else v, dtype=dtype)
        for v in (center_x, center_y)
    ]
    matrix = _inverse_affine_matrix(*centre, *values, height, width)
    boxes = as_boxes(boxes, dtype)
    x1, y1, x2, y2 = _split(boxes)
    corners = torch.stack(
        [_join(x1, y1), _join(x2, y1), _join(x2, y2), _join(x1, y2)], dim=2
    )
    corners = torch.cat([corners, torch.ones_like(corners[..., :1])], dim=-1)
    moved = torch.einsum("bnkj,bij->bnki", corners, matrix)
    return torch.cat([moved.amin(dim=2), moved.amax(dim=2)], dim=-1)


def _check_variance(owner, variance):
    if variance is None:
        return None
    variance = torch.as_tensor(variance, dtype=torch.float32)
    if variance.shape[-1:] != (4,):
        raise arg_error(owner, "variance", "None or 4 numbers", variance.tolist())
    return variance


def _image_size(image_shape):
    return (None, None) if image_shape is None else tuple(image_shape[:2])


def encode_box_to_deltas(
    anchors, boxes, anchor_format, box_format, encoding_format="center_yxhw",
    variance=None, image_shape=None,
):  # fmt: skip
    """Boxes as deltas from their anchors (the regression targets of detectors):
    ``((centre - anchor centre) / anchor size, log(size / anchor size))`` in
    ``encoding_format`` order, divided by ``variance`` when given.

    Example:
    >>> import lamina as keras
    >>> keras.utils.bounding_boxes.encode_box_to_deltas(
    ...     [[0.0, 0.0, 10.0, 10.0]], [[0.0, 0.0, 10.0, 20.0]], "xyxy", "xyxy",
    ...     encoding_format="center_xywh").tolist()
    [[0.0, 0.5, 0.0, 0.6931471824645996]]
    """
    owner = "encode_box_to_deltas"
    variance = _check_variance(owner, variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        rule = "'center_xywh' or 'center_yxhw'"
        raise arg_error(owner, "encoding_format", rule, encoding_format)
    height, width = _image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_size = torch.clamp(anchors[..., 2:], min=config.epsilon())
    box_size = torch.clamp(boxes[..., 2:], min=config.epsilon())
    deltas = torch.cat([(boxes[..., :2] - anchors[..., :2]) / anchor_size,
                        torch.log(box_size / anchor_size)], dim=-1)  # fmt: skip
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(
    anchors, boxes_delta, anchor_format, box_format, encoded_format="center_yxhw",
    variance=None, image_shape=None,
):  # fmt: skip
    """The inverse of ``encode_box_to_deltas``: boxes in ``box_format`` from
    anchors and deltas (dicts of levels give a dict of levels).

    Example:
    >>> import lamina as keras
    >>> keras.utils.bounding_boxes.decode_deltas_to_boxes(
    ...     [[0.0, 0.0, 10.0, 10.0]], [[0.0, 0.5, 0.0, 0.6931472]], "xyxy", "xyxy",
    ...     encoded_format="center_xywh").round().tolist()
    [[0.0, 0.0, 10.0, 20.0]]
    """
    owner = "decode_deltas_to_boxes"
    variance = _check_variance(owner, variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        rule = "'center_xywh' or 'center_yxhw'"
        raise arg_error(owner, "encoded_format", rule, encoded_format)
    height, width = _image_size(image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = torch.as_tensor(delta, dtype=anchor.dtype)
        delta = delta if variance is None else delta * variance
        box = torch.cat([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                         torch.exp(delta[..., 2:]) * anchor[..., 2:]], dim=-1)  # fmt: skip
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(a, boxes_delta[level]) for level, a in anchors.items()}
    return decode(anchors, boxes_delta)
