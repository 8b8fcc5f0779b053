"""The Singer protocol alone: messages, line reading and writing, catalogs and state.

Nothing here imports anything heavier than orjson, so taps, targets and tools can share it
without paying for pyarrow or singer-sdk at start-up.
"""

from dativo_core.singer.catalog import Catalog, CatalogEntry
from dativo_core.singer.errors import SingerProtocolError
from dativo_core.singer.messages import (
    ActivateVersionMessage,
    BatchMessage,
    Message,
    RecordMessage,
    SchemaMessage,
    StateMessage,
    message_from_dict,
    message_to_bytes,
)
from dativo_core.singer.reader import LineChunk, iter_messages, parse_line, read_line_chunks
from dativo_core.singer.state import clear_bookmark, get_bookmark, set_bookmark
from dativo_core.singer.writer import SingerWriter

__all__ = [
    "ActivateVersionMessage",
    "BatchMessage",
    "Catalog",
    "CatalogEntry",
    "LineChunk",
    "Message",
    "RecordMessage",
    "SchemaMessage",
    "SingerProtocolError",
    "SingerWriter",
    "StateMessage",
    "clear_bookmark",
    "get_bookmark",
    "iter_messages",
    "message_from_dict",
    "message_to_bytes",
    "parse_line",
    "read_line_chunks",
    "set_bookmark",
]
