"""rerun-sinks: the recording stream and sinks over the pure ``rerun_core``."""

from __future__ import annotations

from rerun_core import AnnotationInfo, ClassDescription, ColorModel, ImageFormat

__all__ = ["AnnotationInfo", "ClassDescription", "ColorModel", "ImageFormat"]
