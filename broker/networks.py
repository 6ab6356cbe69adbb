"""Where technicians may sign in from: allow-lists of networks (CIDR, IPv4 and IPv6).

A technician may have a list, and so may their group (``"allowed_networks"`` in the
group's settings). An empty or absent list allows any address. When both are set the
address must be in both: the group's list is the organisation's limit, the
technician's narrows it. The address is the TCP peer the broker sees, so behind a
reverse proxy it is the proxy's (docs/threat-model.md).

A refused sign-in is logged on ``lifeline.broker.access`` (the audit log records it too,
as a failed sign-in with the reason ``network_not_allowed``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence

from broker.records import Group, Technician

GROUP_SETTING = "allowed_networks"
#: Enough for any office layout; a bound so a list is checked in microseconds.
MAX_NETWORKS = 256

access_log = logging.getLogger("lifeline.broker.access")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(text: str) -> Network:
    """A network as an administrator writes it: ``203.0.113.0/24``, ``2001:db8::/32``,
    or one address (``203.0.113.7``, a /32 or /128). Bits set past the prefix are
    dropped (``10.1.2.3/8`` is ``10.0.0.0/8``)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a network: write it like 203.0.113.0/24 or 2001:db8::/32"
        ) from None


def parse_networks(texts: Iterable[str]) -> list[str]:
    """The networks in their normal form, without repeats; ValueError for one that is
    not a network, or too many."""
    networks: list[str] = []
    for text in texts:
        network = str(parse_network(text))
        if network not in networks:
            networks.append(network)
    if len(networks) > MAX_NETWORKS:
        raise ValueError(f"a list may hold at most {MAX_NETWORKS} networks")
    return networks


def peer_address(peer: str | None) -> Address | None:
    """The peer's address, an IPv4 address when it came as IPv4-mapped IPv6
    (``::ffff:203.0.113.7`` from a dual-stack socket); None when it is not an address."""
    if not peer:
        return None
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def allowed(peer: str | None, networks: Sequence[str]) -> bool:
    """``peer`` is in one of ``networks``, or the list is empty. An address that cannot
    be read, and entries that are not networks, match nothing: a list fails closed."""
    if not networks:
        return True
    address = peer_address(peer)
    if address is None:
        return False
    for text in networks:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        if address.version == network.version and address in network:
            return True
    return False


def group_networks(group: Group | None) -> list[str]:
    if group is None:
        return []
    networks = group.settings.get(GROUP_SETTING) or []
    return [str(n) for n in networks] if isinstance(networks, list) else []


def refused_by(tech: Technician, group: Group | None, peer: str | None) -> str | None:
    """Which list keeps ``peer`` out, ``"technician"`` or ``"group"``; None when the
    technician may sign in from there."""
    if not allowed(peer, tech.allowed_networks):
        return "technician"
    if not allowed(peer, group_networks(group)):
        return "group"
    return None


def log_refused(tech: Technician, group: Group | None, peer: str | None, which: str) -> None:
    """The hook for a refused sign-in: one structured line on ``lifeline.broker.access``."""
    networks = tech.allowed_networks if which == "technician" else group_networks(group)
    access_log.warning(
        "sign-in refused: %s from %s is outside the %s's allowed networks (%s)",
        tech.email,
        peer or "an unknown address",
        which,
        ", ".join(networks),
        extra={
            "event": "network_not_allowed",
            "technician": tech.email,
            "group": tech.group_name,
            "ip": peer or "",
            "list": which,
            "networks": list(networks),
        },
    )
