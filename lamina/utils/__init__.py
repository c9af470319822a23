"""Utilities: ``plot_model`` / ``model_to_dot`` (model graphs in DOT)."""


def __getattr__(name):
    # The plotting helpers need the model classes, which import this package.
    if name in ("plot_model", "model_to_dot", "model_to_dot_source"):
        from lamina.utils import plot  # plot sits above models; this package below

        return getattr(plot, name)
    raise AttributeError(f"module 'lamina.utils' has no attribute {name!r}")
