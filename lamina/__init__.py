"""lamina: the Keras layer system on PyTorch."""
