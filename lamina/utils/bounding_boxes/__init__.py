"""``keras.utils.bounding_boxes``: box format conversion, clipping, affine
transforms, crop/pad offsets, anchor deltas and IoU, on torch tensors."""

from lamina.utils.bounding_boxes.converters import (
    affine_transform,
    clip_to_image_size,
    convert_format,
    crop,
    decode_deltas_to_boxes,
    encode_box_to_deltas,
    pad,
)
from lamina.utils.bounding_boxes.iou import compute_ciou, compute_iou

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]
