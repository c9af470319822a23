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

Training a GRU on the CPU takes a third path, ``_GRUSequence``: the same arithmetic
as torch's kernel with a hand-written backward that computes the weight gradients
as one matrix product over all timesteps (torch's autograd does two products per
step) -- 1.6x faster forward+backward (bench/cases_rnn.py).

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
    if mode == "gru" and _hand_written_gru(inputs, states, weights):
        outputs, last = _GRUSequence.apply(inputs, states[0], *weights)
        return outputs, [last]
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
    # unbind, not inputs[:, t]: its backward stacks the steps' gradients once,
    # where indexing makes a zero tensor of the whole sequence per step.
    for t, input_t in enumerate(inputs.unbind(1)):
        output, new_states = step(input_t, states)
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


# ------------------------------------------------------------ GRU training
def _hand_written_gru(inputs, states, weights) -> bool:
    """Whether to train on ``_GRUSequence``: on the CPU, when autograd records, in
    eager mode (tracing, compiling, ONNX export and torch.func transforms see
    torch's own kernel)."""
    tensors = (inputs, states[0], *weights)
    return (
        inputs.device.type == "cpu"
        and len(weights) == 4
        and torch.is_grad_enabled()
        and any(t.requires_grad for t in tensors)
        and inputs.dtype in (torch.float32, torch.float64)
        and all(t.dtype == inputs.dtype for t in tensors)
        and not torch.is_autocast_enabled("cpu")
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
        and not torch.onnx.is_in_onnx_export()
        and not torch._C._are_functorch_transforms_active()  # torch.func.grad, vmap
    )


class _GRUSequence(torch.autograd.Function):
    """torch's GRU (gates r, z, n; reset after the recurrent product) over
    (batch, time, features) from h0, with weights in torch's layout: w_ih (3u,
    features), w_hh (3u, u), b_ih, b_hh (3u,). Returns the outputs (batch, time,
    u) and the final state. Per-step tensors are views into (time, ...) buffers,
    written in place."""

    @staticmethod
    def forward(ctx, inputs, h0, w_ih, w_hh, b_ih, b_hh):
        batch, steps, _ = inputs.shape
        u = w_hh.shape[1]
        w_hh = w_hh.contiguous()  # h @ w_hh.T is the fast product layout
        x = inputs.transpose(0, 1).reshape(steps * batch, -1)
        projected = torch.addmm(b_ih, x, w_ih.t()).view(steps, batch, 3 * u)
        h = inputs.new_empty(steps + 1, batch, u)
        recurrent = inputs.new_empty(steps, batch, 3 * u)
        gates = inputs.new_empty(steps, batch, 2 * u)  # r, z
        candidate = inputs.new_empty(steps, batch, u)
        h[0] = h0
        hs, rec, rz, n = (t.unbind(0) for t in (h, recurrent, gates, candidate))
        x_rz, x_n = _split_steps(projected, 2 * u)
        h_rz, h_n = _split_steps(recurrent, 2 * u)
        r, z = _split_steps(gates, u)
        w_hh_t = w_hh.t()
        for t in range(steps):
            torch.addmm(b_hh, hs[t], w_hh_t, out=rec[t])
            torch.add(x_rz[t], h_rz[t], out=rz[t]).sigmoid_()
            torch.addcmul(x_n[t], r[t], h_n[t], out=n[t]).tanh_()
            torch.lerp(n[t], hs[t], z[t], out=hs[t + 1])
        ctx.save_for_backward(inputs, w_ih, w_hh, h, recurrent, gates, candidate)
        return h[1:].transpose(0, 1), h[-1].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_outputs, grad_last):
        inputs, w_ih, w_hh, h, recurrent, gates, candidate = ctx.saved_tensors
        steps, batch, u = candidate.shape
        # Per step: [d r_pre, d z_pre, d (h @ W_hn + b_hn), d (x @ W_in + b_in)]
        grads = inputs.new_empty(steps, batch, 4 * u)
        dh = torch.zeros_like(h[0]) if grad_last is None else grad_last.clone()
        dh_z = torch.empty_like(dh)
        dy = None if grad_outputs is None else grad_outputs.transpose(0, 1).unbind(0)
        hs, n = h.unbind(0), candidate.unbind(0)
        r, z = _split_steps(gates, u)
        h_n = _split_steps(recurrent, 2 * u)[1]
        dr, dz, dhn, dxn = _split_steps(grads, u, 2 * u, 3 * u)
        d_rec = grads[..., : 3 * u].unbind(0)
        backward_of = torch.ops.aten
        for t in range(steps - 1, -1, -1):
            if dy is not None:
                dh.add_(dy[t])
            # h' = n + z * (h - n)
            torch.mul(dh, z[t], out=dh_z)
            torch.sub(dh, dh_z, out=dxn[t])
            torch.sub(hs[t], n[t], out=dz[t]).mul_(dh)
            backward_of.tanh_backward.grad_input(dxn[t], n[t], grad_input=dxn[t])
            torch.mul(dxn[t], h_n[t], out=dr[t])
            backward_of.sigmoid_backward.grad_input(dr[t], r[t], grad_input=dr[t])
            backward_of.sigmoid_backward.grad_input(dz[t], z[t], grad_input=dz[t])
            torch.mul(dxn[t], r[t], out=dhn[t])
            torch.addmm(dh_z, d_rec[t], w_hh, out=dh)
        flat = grads.view(steps * batch, 4 * u)
        d_recurrent = flat[:, : 3 * u]
        d_projected = torch.cat([flat[:, : 2 * u], flat[:, 3 * u :]], dim=1)
        x = inputs.transpose(0, 1).reshape(steps * batch, -1)
        d_inputs = (d_projected @ w_ih).view(steps, batch, -1).transpose(0, 1)
        return (
            d_inputs,
            dh,
            d_projected.t() @ x,
            d_recurrent.t() @ h[:-1].reshape(steps * batch, u),
            d_projected.sum(0),
            d_recurrent.sum(0),
        )


def _split_steps(buffer, *cuts):
    """Per-timestep views of ``buffer`` (time, batch, width) cut along the last
    axis at ``cuts``: one list of views per piece."""
    bounds = (0, *cuts, buffer.shape[-1])
    return [buffer[..., a:b].unbind(0) for a, b in zip(bounds, bounds[1:])]
