"""Running a recurrent cell over a sequence, with Keras's mask rule.

Keras's rule: at a masked timestep the states are carried over unchanged and the
output repeats the previous output (zeros before the first unmasked step). Two ways
to follow it:

- ``fused``: torch's own kernels (``torch._VF.lstm``/``gru``/``rnn_tanh``/
  ``rnn_relu``, what ``torch.nn.LSTM`` & co. run) on views of Keras-layout
  weights. A mask is handled exactly, whatever its pattern: each row's unmasked
  steps are gathered to the front (a stable sort keeps their order), the rows run as
  a packed sequence, and the outputs are spread back to their timesteps with the
  previous output repeated over masked steps.
- ``step_loop``: a Python loop over any step function, masking with ``torch.where``.

Both return the whole output sequence (batch, time, ...) and the final states; the
caller takes the last timestep as the last output.
"""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lamina.utils import tree

# Keras gate order -> torch gate order, per kernel family (block indices).
_GATE_ORDER = {
    "lstm": (0, 1, 2, 3),
    "gru": (1, 0, 2),
    "rnn_tanh": (0,),
    "rnn_relu": (0,),
}
_KERNELS = {
    "lstm": torch._VF.lstm,
    "gru": torch._VF.gru,
    "rnn_tanh": torch._VF.rnn_tanh,
    "rnn_relu": torch._VF.rnn_relu,
}


def torch_weights(mode, kernel, recurrent_kernel, input_bias=None, recurrent_bias=None):
    """Keras-layout weights as torch's flat weight list ``[w_ih, w_hh(, b_ih, b_hh)]``.

    ``kernel`` is (input_dim, gates * units) and ``recurrent_kernel`` (units,
    gates * units), Keras's layout; torch wants them transposed and, for the GRU,
    with the gates reordered from Keras's z, r, h to torch's r, z, n. The transposes
    are views (no copy); only the GRU reorder copies. A missing bias is passed as
    zeros when the other one exists (Keras's LSTM and SimpleRNN have one bias,
    torch two).
    """
    order = _GATE_ORDER[mode]
    weights = [_reorder(kernel, order, 1).T, _reorder(recurrent_kernel, order, 1).T]
    if input_bias is None and recurrent_bias is None:
        return weights
    if input_bias is None:
        input_bias = torch.zeros_like(recurrent_bias)
    if recurrent_bias is None:
        recurrent_bias = torch.zeros_like(input_bias)
    return [
        *weights,
        _reorder(input_bias, order, 0),
        _reorder(recurrent_bias, order, 0),
    ]


def _reorder(weight, order, dim):
    if order == tuple(range(len(order))):
        return weight
    blocks = weight.chunk(len(order), dim=dim)
    return torch.cat([blocks[i] for i in order], dim=dim)


def fused(mode, inputs, states, weights, mask=None, need_states=True):
    """Run torch's ``mode`` kernel over ``inputs`` (batch, time, features).

    Args:
        mode: "lstm", "gru", "rnn_tanh" or "rnn_relu".
        inputs: (batch, time, features), in processing order.
        states: list of (batch, units) tensors ([h, c] for the LSTM, [h] else).
        weights: from ``torch_weights``.
        mask: optional boolean (batch, time); True marks steps to process.
        need_states: whether the caller uses the final states; without them a
            masked LSTM runs faster (its final c is then None).

    Returns:
        ``(outputs, final_states)``: outputs (batch, time, units) following Keras's
        mask rule, final states as a list like ``states``.
    """
    if mask is None or bool(mask.all()):
        return _run(mode, inputs, states, weights)
    compact, lengths = _compact(inputs, mask)
    ran = (lengths > 0).unsqueeze(-1)  # rows with no unmasked step keep their states
    if mode in ("gru", "rnn_tanh") or (mode == "lstm" and not need_states):
        # Each row's steps are at the front and the kernel is causal: run the full
        # length, read h at each row's last step. The steps past it see padding,
        # stay bounded (tanh/sigmoid) and get no gradient.
        out, _ = _run(mode, compact, states, weights)
        last = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, out.shape[-1])
        h = torch.where(ran, out.gather(1, last).squeeze(1), states[0])
        return spread(out, mask), [h] if mode != "lstm" else [h, None]
    out, finals = _run_packed(mode, compact, states, weights, lengths)
    return spread(out, mask), [torch.where(ran, f, s) for f, s in zip(finals, states)]


def _run(mode, inputs, states, weights):
    hx = tuple(s.unsqueeze(0) for s in states)
    result = _call_kernel(mode, (inputs,), hx, weights, batch_first=True)
    return result[0], [s.squeeze(0) for s in result[1:]]


def _compact(inputs, mask):
    """Each row's unmasked steps moved to the front, in order; and their count."""
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if torch.equal(mask, steps < lengths.unsqueeze(1)):  # right-padded already
        return inputs, lengths
    order = torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)
    index = order.unsqueeze(-1).expand(-1, -1, inputs.shape[-1])
    return inputs.gather(1, index), lengths


def _call_kernel(mode, data, hx, weights, batch_first):
    hx = hx if mode == "lstm" else hx[0]
    args = (len(weights) == 4, 1, 0.0, torch.is_grad_enabled(), False)
    if batch_first is not None:
        args = (*args, batch_first)
    return _KERNELS[mode](*data, hx, weights, *args)


def _run_packed(mode, compact, states, weights, lengths):
    """The rows as a packed sequence of their lengths (an empty row runs one step,
    which the caller discards)."""
    packed = pack_padded_sequence(
        compact, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
    )
    hx = tuple(s.index_select(0, packed.sorted_indices).unsqueeze(0) for s in states)
    result = _call_kernel(
        mode, (packed.data, packed.batch_sizes), hx, weights, batch_first=None
    )
    out = PackedSequence(
        result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=compact.shape[1])
    finals = [s.squeeze(0).index_select(0, packed.unsorted_indices) for s in result[1:]]
    return out, finals


def spread(compact_outputs, mask):
    """Outputs of the compacted rows back at their timesteps: a masked step repeats
    the previous output, zeros before the first unmasked step."""
    count = mask.cumsum(dim=1)
    index = (count - 1).clamp(min=0).unsqueeze(-1)
    outputs = compact_outputs.gather(1, index.expand(-1, -1, compact_outputs.shape[-1]))
    return outputs * (count > 0).unsqueeze(-1).to(outputs.dtype)


def step_loop(step, inputs, states, mask=None):
    """Loop ``step(input_t, states) -> (output_t, new_states)`` over the time axis.

    Args:
        step: the step function; ``states`` may be any nested list structure.
        inputs: (batch, time, ...), in processing order.
        states: the initial states.
        mask: optional boolean (batch, time); True marks steps to process.

    Returns:
        ``(outputs, final_states)`` with outputs stacked on axis 1.
    """
    outputs = []
    previous = None
    for t in range(inputs.shape[1]):
        output, new_states = step(inputs[:, t], states)
        if mask is not None:
            keep = mask[:, t]
            if previous is None:
                previous = torch.zeros_like(output)
            output = _where(keep, output, previous)
            new_states = tree.pack_sequence_as(
                new_states,
                [
                    _where(keep, new, old)
                    for new, old in zip(tree.flatten(new_states), tree.flatten(states))
                ],
            )
            previous = output
        states = new_states
        outputs.append(output)
    return torch.stack(outputs, dim=1), states


def _where(keep, new, old):
    keep = keep.reshape(keep.shape + (1,) * (new.ndim - keep.ndim))
    return torch.where(keep, new, old)


def masked_zeros(outputs, mask):
    """``outputs`` (batch, time, ...) with zeros at masked timesteps."""
    return _where(mask, outputs, torch.zeros((), dtype=outputs.dtype))
