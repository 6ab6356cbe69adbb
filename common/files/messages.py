"""The file manager's wire messages (docs/protocol.md, section 5.12, "Files").

All travel on the ``FILE`` channel, so they wait behind input and never delay it, and
stay in order with the chunks they describe. ``id`` names one listing or one transfer; the
console chooses it (1 … 2³¹−1). Locations on the applet's computer are ``root`` (one of the
``file_roots`` it listed) plus ``path``, the components below it.
"""

from __future__ import annotations

from typing import Any

from common.files.names import MAX_DEPTH, MAX_NAME_BYTES
from common.protocol.messages import Field, Schema, SchemaRegistry

#: Bytes of file data in one ``file_chunk`` (under FILE's 4 MiB message limit).
CHUNK_SIZE = 256 * 1024
#: Entries in one ``file_listing``; a larger folder is cut (``truncated``).
MAX_ENTRIES = 5000
MAX_ROOTS = 32
MAX_ROOT = 260
MAX_ID = 2**31 - 1
MAX_REASON = 400

_ID = Field(int)
_ROOT = Field(str, MAX_ROOT)
_PATH = Field(list, MAX_DEPTH)
_NAME = Field(str, MAX_NAME_BYTES)
_MD5 = Field(str, 32)
_SHA256 = Field(str, 64)

#: What the console may send the applet.
CONSOLE_FILE_MESSAGES = SchemaRegistry(
    Schema("file_roots", {}),
    Schema("file_list", {"id": _ID, "root": _ROOT, "path": _PATH}),
    Schema(
        "file_get",
        {
            "id": _ID,
            "root": _ROOT,
            "path": _PATH,
            "offset": Field(int, optional=True),
            "prefix_sha256": Field(str, 64, optional=True),
        },
    ),
    Schema(
        "file_put",
        {
            "id": _ID,
            "root": _ROOT,
            "path": _PATH,
            "name": _NAME,
            "size": Field(int),
            "dirs": Field(list, MAX_DEPTH, optional=True),
            "overwrite": Field(bool, optional=True),
        },
    ),
    Schema("file_start", {"id": _ID, "size": Field(int), "offset": Field(int)}),
    Schema("file_chunk", {"id": _ID, "offset": Field(int), "data": Field(bytes, CHUNK_SIZE)}),
    Schema("file_end", {"id": _ID, "size": Field(int), "md5": _MD5, "sha256": _SHA256}),
    Schema("file_done", {"id": _ID, "md5": _MD5, "sha256": _SHA256}),
    Schema("file_cancel", {"id": _ID}),
    Schema("file_error", {"id": _ID, "reason": Field(str, 32), "message": Field(str, MAX_REASON)}),
    Schema("file_mkdir", {"id": _ID, "root": _ROOT, "path": _PATH, "name": _NAME}),
    Schema(
        "file_rename",
        {"id": _ID, "root": _ROOT, "path": _PATH, "name": _NAME, "new_name": _NAME},
    ),
    Schema("file_delete", {"id": _ID, "root": _ROOT, "path": _PATH, "name": _NAME}),
    Schema("file_ack", {"id": _ID, "offset": Field(int)}),
)

#: What the applet may send the console.
APPLET_FILE_MESSAGES = SchemaRegistry(
    Schema("file_roots", {"roots": Field(list, MAX_ROOTS)}),
    Schema(
        "file_listing",
        {
            "id": _ID,
            "root": _ROOT,
            "path": _PATH,
            "entries": Field(list, MAX_ENTRIES),
            "truncated": Field(bool),
        },
    ),
    Schema(
        "file_accept",
        {"id": _ID, "offset": Field(int), "prefix_sha256": Field(str, 64, optional=True)},
    ),
    Schema("file_start", {"id": _ID, "size": Field(int), "offset": Field(int)}),
    Schema("file_chunk", {"id": _ID, "offset": Field(int), "data": Field(bytes, CHUNK_SIZE)}),
    Schema("file_end", {"id": _ID, "size": Field(int), "md5": _MD5, "sha256": _SHA256}),
    Schema("file_done", {"id": _ID, "md5": _MD5, "sha256": _SHA256}),
    Schema("file_cancel", {"id": _ID}),
    Schema("file_error", {"id": _ID, "reason": Field(str, 32), "message": Field(str, MAX_REASON)}),
    Schema("file_ok", {"id": _ID}),
    Schema("file_ack", {"id": _ID, "offset": Field(int)}),
)

#: The fields of a message a receiver queues for its disk that its writer reads.
_KEPT = {"file_chunk": ("t", "offset", "data"), "file_end": ("t", "size", "md5", "sha256")}


def kept(message: dict[str, Any]) -> dict[str, Any]:
    """A checked ``file_chunk`` or ``file_end`` with only what its writer reads: other
    fields a peer added (a schema lets them through) are not kept while it waits."""
    return {key: message[key] for key in _KEPT[message["t"]]}
