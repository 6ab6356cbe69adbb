"""Protocol version and the bounds every parser checks before allocating."""

PROTOCOL_VERSION = 1

#: Largest record accepted from the network (peer records and broker frames).
MAX_RECORD = 1024 * 1024
#: Payload carried by one data record; larger messages are split into fragments, so
#: a big message never delays a higher-priority one by more than one fragment. The
#: extra kilobyte leaves room for a message's envelope, so a 64 KiB chunk of file or
#: video data travels as one record, not as a full record and a crumb.
FRAGMENT_SIZE = 64 * 1024 + 1024
#: Bytes sent but not yet acknowledged before low-priority channels must wait.
DEFAULT_WINDOW = 4 * 1024 * 1024
#: Bytes queued or unacknowledged before the link counts as stalled for good.
MAX_BUFFERED = 64 * 1024 * 1024
