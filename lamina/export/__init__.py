"""``keras.export`` on torch: ``ExportArchive`` and ``export_model`` (what
``Model.export`` runs), through ``torch.export`` and torch's ONNX exporter."""

from lamina.export.archive import ExportArchive, load_archive
from lamina.export.model_export import export_model

__all__ = ["ExportArchive", "export_model", "load_archive"]
