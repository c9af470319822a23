"""The one home of shape and padding arithmetic (convolution, pooling, transpose).

Every function works on one spatial axis, is pure, and passes ``None`` (an unknown
size) through where the result is then unknown too. Layers call these per axis;
nothing else in lamina computes an output size or a padding.

Conventions (TensorFlow/Keras):
- ``same`` pads ``total = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)``, with
  ``total // 2`` before and the extra cell after.
- ``causal`` pads ``(k - 1) * d`` before and nothing after.
- A transposed convolution is computed "full" (no padding), then cropped (or padded
  with zeros at the end) to Keras's output length; see ``conv_transpose_crop``.
"""

from __future__ import annotations

PADDINGS = ("valid", "same", "causal")


def dilated_kernel(kernel: int, dilation: int = 1) -> int:
    """The span of a dilated kernel: ``(k - 1) * d + 1``."""
    return (kernel - 1) * dilation + 1


def conv_output_length(
    n: int | None, kernel: int, padding: str, stride: int = 1, dilation: int = 1
) -> int | None:
    """Output length of a convolution (or pooling window) over ``n`` cells.

    ``valid``: ``ceil((n - (k - 1) * d) / s)``; ``same`` and ``causal``: ``ceil(n / s)``.
    The result may be <= 0 for an input shorter than the kernel; layers turn that
    into an error that names the input shape.
    """
    if n is None:
        return None
    span = (
        n if padding in ("same", "causal") else n - dilated_kernel(kernel, dilation) + 1
    )
    return (span + stride - 1) // stride


def pool_output_length(
    n: int | None, pool_size: int, padding: str, stride: int
) -> int | None:
    """Output length of a pooling window (a convolution with dilation 1)."""
    return conv_output_length(n, pool_size, padding, stride, 1)


def same_padding(
    n: int, kernel: int, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """``(before, after)`` for ``same``: the extra cell goes after (TF rule)."""
    out = -(-n // stride)
    total = max((out - 1) * stride + dilated_kernel(kernel, dilation) - n, 0)
    return total // 2, total - total // 2


def causal_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """``(before, after)`` for ``causal``: ``(k - 1) * d`` zeros before, none after."""
    return (kernel - 1) * dilation, 0


def padding_pair(
    n: int, kernel: int, padding: str, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """``(before, after)`` zero cells for one axis under ``padding``."""
    if padding == "same":
        return same_padding(n, kernel, stride, dilation)
    if padding == "causal":
        return causal_padding(kernel, dilation)
    return 0, 0


def padding_pairs(sizes, kernels, padding: str, strides, dilations=None):
    """``padding_pair`` for every spatial axis."""
    dilations = dilations or (1,) * len(sizes)
    return tuple(
        padding_pair(n, k, padding, s, d)
        for n, k, s, d in zip(sizes, kernels, strides, dilations)
    )


def local_padding_pair(n: int, kernel: int, padding: str, stride: int = 1):
    """``(before, after)`` for tf.keras's locally-connected layers (one axis).

    Their ``same`` is not the convolution's: window ``q`` reads cells
    ``q * s - k // 2`` to ``q * s - k // 2 + k - 1`` (centred on ``q * s``, the extra
    cell of an even kernel before), so ``before = k // 2`` and ``after`` covers the
    last of the ``ceil(n / s)`` windows. ``valid`` pads nothing.
    """
    if padding != "same":
        return 0, 0
    out = conv_output_length(n, kernel, "same", stride)
    before = kernel // 2
    return before, max((out - 1) * stride - before + kernel - n, 0)


def deconv_output_length(
    n: int | None,
    kernel: int,
    padding: str,
    output_padding: int | None = None,
    stride: int = 1,
    dilation: int = 1,
) -> int | None:
    """Output length of a transposed convolution, Keras's rule.

    Without ``output_padding``: ``valid`` gives ``n * s + max(k' - s, 0)`` and
    ``same`` gives ``n * s`` (``k'`` the dilated kernel). With it:
    ``(n - 1) * s + k' - 2 * pad + output_padding``, ``pad = k' // 2`` for ``same``
    and 0 for ``valid``.
    """
    if n is None:
        return None
    span = dilated_kernel(kernel, dilation)
    if output_padding is None:
        return n * stride + (max(span - stride, 0) if padding == "valid" else 0)
    pad = span // 2 if padding == "same" else 0
    return (n - 1) * stride + span - 2 * pad + output_padding


def conv_transpose_full_length(
    n: int, kernel: int, stride: int = 1, dilation: int = 1
) -> int:
    """Length of the unpadded ("full") transposed convolution: ``(n - 1) * s + k'``."""
    return (n - 1) * stride + dilated_kernel(kernel, dilation)


def conv_transpose_crop(
    n: int,
    kernel: int,
    padding: str,
    output_padding: int | None = None,
    stride: int = 1,
    dilation: int = 1,
) -> tuple[int, int]:
    """``(before, after)`` to cut from the full transposed output to reach Keras's
    length. ``after`` is negative when the output extends past the full result
    (those cells only receive the bias), as TensorFlow's transposed convolution does.

    ``same`` crops ``(full - out) // 2`` before, the rest after (the gradient of a
    ``same`` convolution producing ``n`` from ``out`` cells); ``valid`` crops nothing
    before.
    """
    full = conv_transpose_full_length(n, kernel, stride, dilation)
    out = deconv_output_length(n, kernel, padding, output_padding, stride, dilation)
    before = max(full - out, 0) // 2 if padding == "same" else 0
    return before, full - out - before


def cropped_length(n: int | None, before: int, after: int) -> int | None:
    return None if n is None else n - before - after


def padded_length(n: int | None, before: int, after: int) -> int | None:
    return None if n is None else n + before + after


def upsampled_length(n: int | None, size: int) -> int | None:
    return None if n is None else n * size


def torch_conv_padding(
    n: int, kernel: int, padding: str, stride: int = 1, dilation: int = 1
) -> tuple[int, int, int]:
    """``padding_pair`` split for torch: ``(symmetric, before, after)``.

    ``symmetric`` goes to torch's own ``padding`` argument; ``before``/``after`` are
    the zeros still to add explicitly (``F.pad``): the extra cell of an odd ``same``
    total (always read: the total is exactly what the last window needs) and the
    ``causal`` zeros.
    """
    before, after = padding_pair(n, kernel, padding, stride, dilation)
    common = min(before, after)
    return common, before - common, after - common


def torch_conv_transpose_padding(
    kernel: int,
    padding: str,
    output_padding: int | None = None,
    stride: int = 1,
    dilation: int = 1,
) -> tuple[int, int, int]:
    """``conv_transpose_crop`` in torch's terms: ``(input_zeros, padding,
    output_padding)``, computed once per layer (the crop does not depend on ``n``).

    torch's transposed convolution drops ``padding`` cells from both ends of the
    full result and appends ``output_padding`` cells (zeros past the full result),
    with ``output_padding < stride``. That expresses every crop cutting at least as
    much before as after. When more must go after (``same`` with an even dilated
    kernel span and stride 1, or a kernel wider than the stride by an odd amount),
    ``q`` zeros are put before the input instead: they shift the full result by
    ``q * stride`` cells, so cropping ``before + q * stride`` cells and appending
    ``q * stride - (after - before)`` cells gives the same window without slicing
    the output.
    """
    before, after = conv_transpose_crop(
        1, kernel, padding, output_padding, stride, dilation
    )
    if after <= before:
        return 0, before, before - after
    zeros = -(-(after - before) // stride)
    return zeros, before + zeros * stride, zeros * stride - (after - before)


def torch_pool_padding(
    n: int, pool_size: int, padding: str, stride: int = 1
) -> tuple[int, int]:
    """``padding_pair`` for a pooling window in torch's terms: ``(symmetric, extra)``.

    torch pools with one symmetric padding per axis (cells it ignores) and, with
    ``ceil_mode=True`` (used for ``same``), adds a last window that runs past the
    end. Together they read TensorFlow's ``same`` windows: equal ``(before,
    after)`` is torch's own padding; an extra cell after, with ``stride >= 2``, is
    the window ``ceil_mode`` adds. With ``stride == 1`` (an even pool) the ``extra``
    cell after must be appended to the input explicitly (-inf for max pooling,
    0 for average pooling, which then rescales by ``pool_window_sizes``).
    """
    before, after = padding_pair(n, pool_size, padding, stride)
    if before == after or stride > 1:
        return before, 0
    return before, after - before


def pool_window_sizes(
    n: int, pool_size: int, padding: str, stride: int = 1, length: int | None = None
) -> tuple[int, ...]:
    """How many cells of ``[0, length)`` (default ``[0, n)``, the real cells) each
    pooling window over ``n`` cells covers, window by window."""
    before, _ = padding_pair(n, pool_size, padding, stride)
    length = n if length is None else length
    starts = (
        j * stride - before
        for j in range(pool_output_length(n, pool_size, padding, stride))
    )
    return tuple(min(a + pool_size, length) - max(a, 0) for a in starts)
