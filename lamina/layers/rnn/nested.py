"""Layers inside layers (RNN cells, wrapped layers) in configs, as Keras writes
them: the nested layer's serialization dict plus its ``build_config`` once built."""

from __future__ import annotations

from lamina.saving.serialization import serialize_keras_object


def serialize_layer(layer) -> dict:
    config = serialize_keras_object(layer)
    get_build_config = getattr(layer, "get_build_config", None)
    build_config = get_build_config() if get_build_config is not None else None
    if build_config:
        config["build_config"] = build_config
    return config


def deserialize_layer(config, custom_objects=None):
    from lamina import layers

    return layers.deserialize(config, custom_objects=custom_objects)
