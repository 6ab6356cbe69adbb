"""Pure logic shared by the broker, the applet and the console.

Everything here except ``common.transport`` is free of I/O: no Qt, no sockets, no
asyncio (a test enforces it).
"""
