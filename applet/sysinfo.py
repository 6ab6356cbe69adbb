"""What the technician sees of this computer once allowed: OS, CPU, memory, disks,
network interfaces, uptime and the busiest processes (psutil + platform)."""

from __future__ import annotations

import platform
import time
from typing import Any

import psutil

TOP_PROCESSES = 15


def collect() -> dict[str, Any]:
    """A snapshot, small enough for one control message (bounded lists, short strings)."""
    memory = psutil.virtual_memory()
    disks = []
    for part in psutil.disk_partitions(all=False)[:16]:
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        disks.append(
            {
                "mount": part.mountpoint[:128],
                "fs": part.fstype[:16],
                "total": usage.total,
                "used": usage.used,
            }
        )
    interfaces = {
        name[:32]: [a.address[:64] for a in addrs if a.family.name in ("AF_INET", "AF_INET6")][:4]
        for name, addrs in list(psutil.net_if_addrs().items())[:16]
    }
    processes = []
    for proc in psutil.process_iter(["pid", "name", "memory_info"]):
        info = proc.info
        rss = info["memory_info"].rss if info.get("memory_info") else 0
        processes.append({"pid": info["pid"], "name": str(info["name"])[:64], "rss": rss})
    processes.sort(key=lambda p: p["rss"], reverse=True)
    return {
        "os": f"{platform.system()} {platform.release()}"[:128],
        "host": platform.node()[:128],
        "cpu": {
            "model": (platform.processor() or platform.machine())[:128],
            "cores": psutil.cpu_count() or 0,
        },
        "memory": {"total": memory.total, "available": memory.available},
        "disks": disks,
        "interfaces": interfaces,
        "uptime_seconds": int(time.time() - psutil.boot_time()),
        "top_processes": processes[:TOP_PROCESSES],
    }
