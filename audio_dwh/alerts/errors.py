"""Dagster wraps the exception an asset raised in its own errors: people need the asset's."""

from dagster._utils.error import SerializableErrorInfo


def root_error(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The innermost cause of a step's error: the exception the asset itself raised."""
    while error.cause is not None:
        error = error.cause
    return error
