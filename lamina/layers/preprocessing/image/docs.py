"""Argument paragraphs shared by the image preprocessing layers' docstrings
(``fill_docs(IMAGE_ARGS)``)."""

IMAGE_ARGS = {
    "fill_mode": """fill_mode: how points outside the input are filled:
    ``"reflect"`` (default; ``d c b a | a b c d | d c b a``), ``"wrap"``,
    ``"constant"`` (``fill_value``) or ``"nearest"``.""",
    "interpolation": """interpolation: ``"bilinear"`` (default) or ``"nearest"``.""",
    "fill_value": """fill_value: the value outside the input with
    ``fill_mode="constant"`` (default 0.0).""",
    "seed": """seed: int, makes the draws reproducible (default None).""",
    "value_range": """value_range: ``(low, high)``, the range of the input values
    (default ``(0, 255)``).""",
    "bounding_box_format": """bounding_box_format: the format of the boxes in
    ``"bounding_boxes"`` inputs (``"xyxy"``, ``"yxyx"``, ``"xywh"``,
    ``"center_xywh"``, ... or None).""",
    "image_shapes": """Input shape: 3D ``(height, width, channels)`` or 4D
``(batch, height, width, channels)`` (channels first with
``data_format="channels_first"``), or a dict with ``"images"`` and optional
``"labels"``, ``"bounding_boxes"`` and ``"segmentation_masks"``.""",
}
