"""CategoryEncoding: integer features to one-hot, multi-hot or count vectors."""

from __future__ import annotations

import numpy as np
import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing import encoding
from lamina.layers.preprocessing.base import SPARSE_NOTE, PreprocessingLayer
from lamina.utils.validation import arg_error, check_choice, check_int


@fill_docs({"sparse": f"sparse: {SPARSE_NOTE}"})
class CategoryEncoding(PreprocessingLayer):
    """Encodes integer features (indices in ``[0, num_tokens)``) as vectors.

    Args:
        num_tokens: int >= 1, the number of categories (the output depth).
        output_mode: ``"multi_hot"`` (default: 1 where a category occurs in the
            sample), ``"one_hot"`` (one vector per value) or ``"count"`` (how
            often each category occurs; ``count_weights`` in the call sums
            weights instead). ``"binary"`` is the Keras 2 name of multi_hot.
        {sparse}
        {kwargs}

    Call arguments:
        inputs: integers of shape ``(batch,)``, ``(batch, k)`` or higher rank.
            Values outside ``[0, num_tokens)`` select no category (zeros), as on
            TensorFlow.
        count_weights: optional weights of the inputs' shape, ``"count"`` only.

    Output shape:
        ``"one_hot"``: ``(*input_shape, num_tokens)``, a trailing axis of size 1
        replaced; otherwise axis 1 reduced: ``(batch, num_tokens)`` for
        ``(batch, k)`` inputs. Float32 (the layer's dtype).

    Raises:
        ValueError: ``num_tokens`` missing or < 1; an unknown ``output_mode``;
            ``count_weights`` outside ``"count"``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")
    >>> layer([[0, 1, 1], [3, 3, 2]]).tolist()
    [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """

    def __init__(
        self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs
    ):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        self.output_mode = check_choice(
            self, "output_mode", output_mode, ("count", "one_hot", "multi_hot")
        )
        if num_tokens is None:
            raise arg_error(
                self,
                "num_tokens",
                "set (the number of categories; IntegerLookup finds them from data)",
                None,
            )
        self.num_tokens = check_int(self, "num_tokens", num_tokens, minimum=1)
        self.sparse = bool(sparse)

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise arg_error(
                    self,
                    "count_weights",
                    "None unless `output_mode='count'`",
                    count_weights,
                )
            count_weights = torch.as_tensor(
                np.asarray(count_weights)
                if not isinstance(count_weights, torch.Tensor)
                else count_weights,
                dtype=self._compute_torch_dtype,
            )
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(np.asarray(inputs))
        return encoding.encode(
            inputs.long(),
            self.output_mode,
            self.num_tokens,
            self._compute_torch_dtype,
            count_weights,
        )

    def compute_output_shape(self, input_shape):
        return encoding.encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        }
