"""Exception hierarchy: every failure edgelite reports is an EdgeliteError."""


class EdgeliteError(Exception):
    """Base class of every error edgelite raises on purpose."""


class ModelError(EdgeliteError, ValueError):
    """A .tflite file or in-memory Model is malformed, truncated or inconsistent."""


class UnsupportedOpError(EdgeliteError, NotImplementedError):
    """A model uses an operator (or an op variant) that edgelite cannot execute."""


class ConversionError(EdgeliteError):
    """A frontend could not convert a model to .tflite."""
