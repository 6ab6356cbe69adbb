"""Files between the two computers: hostile-name checks and hashed, resumable transfers.

* :mod:`common.files.names`: which names from the other side may be used, and where.
* :mod:`common.files.transfer`: reading and writing one file in chunks, hashing both ways.
* :mod:`common.files.messages`: the wire messages (docs/protocol.md, section 5.12).
"""

from common.files.names import check_component, check_name, check_parts, inside, safe_child

__all__ = ["check_component", "check_name", "check_parts", "inside", "safe_child"]
