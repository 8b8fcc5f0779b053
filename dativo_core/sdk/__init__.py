"""The reader SDK: what a custom reader implements so Dativo can run it as a Singer tap.

Importing this package costs nothing beyond the standard library, so a plugin can depend on it
alone. Its interface is versioned by `__api_version__` ("MAJOR.MINOR"): a minor release only adds
(new optional methods or capabilities with defaults), a major release may change or remove.
A plugin built against 1.x declares the range `>=1.0,<2` and runs on every 1.y with y >= its
minimum; see docs/readers.md.
"""

from dativo_core.sdk.reader import (
    Bookmark,
    Capabilities,
    JsonLines,
    Reader,
    ReaderError,
    ReadItem,
    RecordLines,
    Stream,
)

__api_version__ = "1.2"

__all__ = [
    "Bookmark",
    "Capabilities",
    "JsonLines",
    "ReadItem",
    "Reader",
    "ReaderError",
    "RecordLines",
    "Stream",
    "__api_version__",
]
