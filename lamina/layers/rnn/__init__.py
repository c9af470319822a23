"""Recurrent layers: the generic RNN over a cell, SimpleRNN, LSTM, GRU, their
cells, StackedRNNCells, ConvLSTM1D/2D/3D, and the Bidirectional and
TimeDistributed wrappers."""

from lamina.layers.rnn.bidirectional import Bidirectional
from lamina.layers.rnn.conv_lstm1d import ConvLSTM1D
from lamina.layers.rnn.conv_lstm2d import ConvLSTM2D
from lamina.layers.rnn.conv_lstm3d import ConvLSTM3D
from lamina.layers.rnn.gru import GRU, GRUCell
from lamina.layers.rnn.lstm import LSTM, LSTMCell
from lamina.layers.rnn.rnn import RNN
from lamina.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from lamina.layers.rnn.stacked_rnn_cells import StackedRNNCells
from lamina.layers.rnn.time_distributed import TimeDistributed

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GRUCell",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
]
