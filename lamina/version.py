"""lamina's version (a leaf: file writers record it without importing the package)."""

__version__ = "0.1.0"


def version() -> str:
    """The version string, as ``keras.version()`` returns Keras's."""
    return __version__
