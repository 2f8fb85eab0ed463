"""User-facing errors.

Every failure a user can cause or fix (bad input, a model that will not load, an unknown
collection) is raised as a subclass of :class:`MMDemoError` whose message is one plain
sentence. The CLI prints that sentence and exits non-zero; the UI shows it. Anything else
is a bug and keeps its traceback.
"""


class MMDemoError(Exception):
    """An expected failure whose message is shown to the user as is."""


class InputError(MMDemoError):
    """The user gave something we cannot use: a bad file, query, name or option."""


class ImageRejected(InputError):
    """One input file was refused; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelLoadError(MMDemoError):
    """A model could not be loaded; the message names the model and the cause."""


class NotFoundError(MMDemoError):
    """A collection, or a collection indexed with a given model, does not exist."""


class OutOfSpaceError(MMDemoError):
    """The disk holding the data dir is full: nothing more can be stored until space is freed."""


class ReadOnlyError(MMDemoError):
    """A write was attempted while ``MMDEMO_READONLY`` is set."""


class DataDirError(MMDemoError):
    """The data dir cannot be used as it is: written by a newer mmdemo, or its layout version
    file is unreadable (:mod:`mmdemo.store.layout`)."""


class TrainingError(MMDemoError):
    """Fine-tuning could not run or finish (out of memory, a model with nothing to train)."""


class HubPushError(MMDemoError):
    """A trained model was saved locally but could not be pushed to the Hugging Face Hub."""


class MissingPackageError(MMDemoError):
    """An optional integration was used without the package it builds on installed."""


class TooSlowError(InputError):
    """A request expected to take longer than its budget (a reranker on a slow device);
    the message gives the estimate and the fix."""
