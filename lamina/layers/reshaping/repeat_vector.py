"""RepeatVector: repeat a vector n times along a new time axis."""

from __future__ import annotations

from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.utils.validation import check_int


class RepeatVector(Layer):
    """Repeats the input ``n`` times.

    Args:
        n: positive int, number of repetitions.

    Input shape:
        ``(batch_size, features)``. Output shape: ``(batch_size, n, features)``.

    Weights:
        None.

    Example:
    >>> import lamina as keras
    >>> keras.layers.RepeatVector(3).compute_output_shape((None, 32))
    (None, 3, 32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_int(self, "n", n, minimum=1)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        # A broadcast view, no copy: torch refuses in-place writes to it rather than
        # silently writing through to the input.
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
