"""The image maths of the preprocessing layers, written once and vectorized over
the batch: projective matrices (Keras's 8-parameter ``[a0, a1, a2, b0, b1, b2,
c0, c1]`` form, applied by ``lamina.ops.image.affine_transform``), value ranges,
blends and box clipping. Pure functions of torch tensors; the layers only draw
the parameters."""

from __future__ import annotations

import math

import torch

from lamina.ops.image import resize
from lamina.utils.bounding_boxes.converters import clip_to_image_size, convert_format


def _column(values, batch, dtype, device):
    values = torch.as_tensor(values, dtype=dtype, device=device)
    return (
        values.reshape(-1).expand(batch) if values.numel() == 1 else values.reshape(-1)
    )


def affine_matrix(angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                  width, center_x=0.5, center_y=0.5):  # fmt: skip
    """``(batch, 8)`` transforms mapping output pixels to input pixels: rotation by
    ``angle`` degrees and shears ``shear_x``/``shear_y`` degrees about the centre
    (``center_x``, ``center_y`` as fractions of the size), then ``scale`` and a
    translation in pixels (Keras's ``_compute_affine_matrix``)."""
    angle = torch.as_tensor(angle).reshape(-1)
    batch, dtype, device = angle.shape[0], angle.dtype, angle.device
    column = [
        _column(v, batch, dtype, device)
        for v in (translate_x, translate_y, scale, shear_x, shear_y)
    ]
    translate_x, translate_y, scale, shear_x, shear_y = column
    radians = math.pi / 180.0
    angle, shear_x, shear_y = angle * radians, shear_x * radians, shear_y * radians
    cx, cy = center_x * (width - 1.0), center_y * (height - 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    tan_x, tan_y = torch.tan(shear_x), torch.tan(shear_y)
    a0 = scale * (cos + tan_x * sin)
    a1 = scale * (-sin + tan_x * cos)
    b0 = scale * (tan_y * cos + sin)
    b1 = scale * (tan_y * -sin + cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b2 = translate_y + cy - cx * b0 - cy * b1
    zeros = torch.zeros_like(a0)
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)


def scale_shift_matrix(scale_x, scale_y, shift_x, shift_y):
    """``(batch, 8)`` transforms ``x -> scale_x x + shift_x``, ``y -> scale_y y +
    shift_y`` (zoom, translation); each argument a ``(batch,)`` tensor."""
    zeros = torch.zeros_like(scale_x)
    return torch.stack(
        [scale_x, zeros, shift_x, zeros, scale_y, shift_y, zeros, zeros], dim=1
    )


def apply_to_point(transform, x, y):
    """Where ``transform`` (``(batch, 8)``) sends the point ``(x, y)``: two
    ``(batch, 1)`` tensors."""
    a0, a1, a2, b0, b1, b2, c0, c1 = transform.split(1, dim=-1)
    k = c0 * x + c1 * y + 1
    return (a0 * x + a1 * y + a2) / k, (b0 * x + b1 * y + b2) / k


def corners_mover(transform):
    """A ``move_xyxy`` for ``boxes_through``: each xyxy box becomes the box around
    its four corners, moved as the image transform ``transform`` (``(batch, 8)``,
    output to input pixels, as ``affine_transform`` reads it) moves pixels."""
    full = torch.cat([transform, torch.ones_like(transform[:, :1])], dim=1)
    forward = torch.linalg.inv_ex(full.reshape(-1, 3, 3).double()).inverse
    forward = (forward / forward[:, 2:, 2:]).reshape(-1, 9)[:, :8]
    forward = forward.to(transform.dtype)

    def move(boxes):
        x1, y1, x2, y2 = boxes.unbind(-1)
        corners = [apply_to_point(forward, x, y) for x in (x1, x2) for y in (y1, y2)]
        xs = torch.stack([x for x, _ in corners], dim=-1)
        ys = torch.stack([y for _, y in corners], dim=-1)
        return torch.stack([xs.amin(-1), ys.amin(-1), xs.amax(-1), ys.amax(-1)], -1)

    return move


def transform_value_range(images, original_range, target_range):
    """``images`` mapped linearly from ``original_range`` to ``target_range``."""
    if tuple(original_range) == tuple(target_range):
        return images
    low, high = (float(v) for v in original_range)
    new_low, new_high = (float(v) for v in target_range)
    images = (images.to(torch.float32) - low) / (high - low)
    return images * (new_high - new_low) + new_low


def blend(image1, image2, factor):
    """``image1 + factor * (image2 - image1)`` (``factor`` broadcast per image)."""
    return image1 + factor * (image2 - image1)


def per_image(values, ndim):
    """``(batch,)`` or ``(batch, 1)`` values shaped to broadcast over ``ndim``-rank
    image batches."""
    return values.reshape(-1, *([1] * (ndim - 1)))


def boxes_through(bounding_boxes, fmt, height, width, move_xyxy, relative=False,
                  out_format=None):  # fmt: skip
    """``bounding_boxes`` converted from ``fmt`` to ``xyxy`` (``rel_xyxy`` when
    ``relative``), moved by ``move_xyxy(boxes)``, clipped to the image and
    converted to ``out_format`` (default ``fmt``)."""
    middle = "rel_xyxy" if relative else "xyxy"
    boxes = convert_format(bounding_boxes["boxes"], fmt, middle, height, width)
    out = clip_to_image_size(
        {**bounding_boxes, "boxes": move_xyxy(boxes)}, height, width, middle
    )
    out["boxes"] = convert_format(out["boxes"], middle, out_format or fmt, height,
                                  width)  # fmt: skip
    return out


def boxes_in_window(bounding_boxes, fmt, height, width, window):
    """Boxes seen through the window ``(x0, y0, x1, y1)`` (each ``(batch, 1)``,
    in input pixels) stretched to the whole ``height x width`` image (zoom)."""
    x0, y0, x1, y1 = window
    boxes = convert_format(bounding_boxes["boxes"], fmt, "xyxy", height, width)
    bx1, by1, bx2, by2 = boxes.unbind(-1)
    clipped_x = [(v.clamp(min=x0, max=x1) - x0) / (x1 - x0) for v in (bx1, bx2)]
    clipped_y = [(v.clamp(min=y0, max=y1) - y0) / (y1 - y0) for v in (by1, by2)]
    relative = torch.stack([clipped_x[0], clipped_y[0], clipped_x[1], clipped_y[1]],
                           -1)  # fmt: skip
    out = clip_to_image_size({**bounding_boxes, "boxes": relative},
                             bounding_box_format="rel_xyxy")  # fmt: skip
    out["boxes"] = convert_format(out["boxes"], "rel_xyxy", fmt, height, width)
    return out


def centre_crop_window(height, width, target_height, target_width) -> tuple:
    """``(top, left, crop_height, crop_width)``: the largest centred window of the
    target aspect ratio (Keras's and TensorFlow's ``smart_resize`` window)."""
    crop_height = int(float(width * target_height) / target_width)
    crop_height = max(min(height, crop_height), 1)
    crop_width = int(float(height * target_width) / target_height)
    crop_width = max(min(width, crop_width), 1)
    top = int(float(height - crop_height) / 2)
    left = int(float(width - crop_width) / 2)
    return top, left, crop_height, crop_width


def crop_and_resize(images, corner, size, channels_last, interpolation="bilinear"):
    """The ``size`` window of ``images`` at ``corner = (top, left)``, resized to
    ``size`` where the images are too small for it."""
    top, left = (int(v) for v in corner)
    height, width = size
    axes = (-3, -2) if channels_last else (-2, -1)
    out = images.narrow(axes[0], top, min(height, images.shape[axes[0]] - top))
    out = out.narrow(axes[1], left, min(width, images.shape[axes[1]] - left))
    if (out.shape[axes[0]], out.shape[axes[1]]) == (height, width):
        return out
    data_format = "channels_last" if channels_last else "channels_first"
    return resize(out, size, interpolation, data_format=data_format).to(images.dtype)


def resized_boxes(bounding_boxes, fmt, input_size, output_size, move_xyxy):
    """Boxes of an ``input_size`` image moved into an ``output_size`` one by
    ``move_xyxy`` (in pixels), clipped to it; all-zero and all-minus-one (padding)
    boxes stay zeros."""
    boxes = convert_format(bounding_boxes["boxes"], fmt, "xyxy", *input_size)
    padding = (boxes == -1).all(-1, keepdim=True) | (boxes == 0).all(-1, keepdim=True)
    out = clip_to_image_size({**bounding_boxes, "boxes": move_xyxy(boxes)},
                             *output_size, "xyxy")  # fmt: skip
    out["boxes"] = torch.where(padding, torch.zeros_like(out["boxes"]), out["boxes"])
    out["boxes"] = convert_format(out["boxes"], "xyxy", fmt, *output_size)
    return out
