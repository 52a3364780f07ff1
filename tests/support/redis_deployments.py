"""Throwaway Redis Cluster and Sentinel deployments for tests and benchmarks (installed binaries,
free loopback ports, persistence off, torn down after).

- :class:`ClusterServers`: ``primaries`` primaries with ``replicas`` replicas each, made with
  ``redis-server --cluster-enabled yes`` per node and ``redis-cli --cluster create``; ready when
  every node reports ``cluster_state:ok`` and every replica is in sync.
- :class:`SentinelServers`: one primary, one replica and three sentinels watching it as
  ``service`` (``down-after-milliseconds`` 1 s, so a killed primary is replaced within seconds).

Both offer :meth:`redis_config` (a :class:`cache.config.RedisConfig` for the topology),
:meth:`env` (the same as ``TRIALSTOCK_REDIS__*`` variables for a server, worker or CLI process),
:meth:`flushall` (every primary), :meth:`wait_healthy` and :meth:`close`; :func:`cli` runs
``redis-cli`` against one node. Every wait is bounded. The pytest fixtures over them live in
:mod:`tests.support.redis_topologies`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cache.config import RedisConfig
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer, RedisServerError

SERVICE = "trialstock"
FAST_SYNC = ("--repl-diskless-sync-delay", "0")  # a replica's full sync starts at once, not after 5 s


def cli(port: int, *args: str, timeout: float = 10.0) -> str:
    """``redis-cli -p port args...``: its output (stripped). RedisServerError when it fails."""
    binary = shutil.which("redis-cli")
    if binary is None:
        raise RedisServerError("redis-cli binary not found on PATH")
    done = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RedisServerError(f"redis-cli {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def info_fields(text: str) -> dict[str, str]:
    """``key:value`` lines of an INFO / CLUSTER INFO reply."""
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` (errors count as False) until true; RedisServerError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (RedisServerError, subprocess.TimeoutExpired, OSError):
            pass
        time.sleep(0.1)  # bounded poll of external processes
    raise RedisServerError(f"timed out after {timeout}s waiting for {what}")


class ClusterServers:
    """A Redis Cluster on loopback; see the module doc."""

    mode = "cluster"

    def __init__(self, *, primaries: int = 3, replicas: int = 1, node_timeout_ms: int = 1000) -> None:
        self.primaries, self.replicas = primaries, replicas
        self.node_timeout_ms = node_timeout_ms
        self.nodes: list[RedisServer] = []

    def _node(self) -> RedisServer:
        return RedisServer(
            extra_args=[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(self.node_timeout_ms),
                "--cluster-port",
                str(free_port()),
                "--cluster-replica-validity-factor",
                "0",  # a replica may always take over (tests kill primaries at will)
                *FAST_SYNC,
            ]
        )

    def _start_node(self, attempts: int = 5) -> RedisServer:
        """A started node on fresh ports. A port that was free when picked can be taken before
        the node binds it (an outgoing connection's ephemeral port): then pick again."""
        for attempt in range(attempts):
            node = self._node()
            try:
                return node.start()
            except RedisServerError as exc:
                if "Address already in use" not in str(exc) or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    def start(self) -> ClusterServers:
        while len(self.nodes) < self.primaries * (1 + self.replicas):
            self.nodes.append(self._start_node())  # kept as they start, so close() stops them all
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        cli(
            self.ports[0],
            "--cluster",
            "create",
            *addresses,
            "--cluster-replicas",
            str(self.replicas),
            "--cluster-yes",
            timeout=60,
        )
        self.wait_healthy()
        return self

    def running(self) -> list[RedisServer]:
        return [node for node in self.nodes if node.running]

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until every running node says ``cluster_state:ok``, sees ``primaries`` primaries with
        slots, and every replica's link to its primary is up."""

        def ready() -> bool:
            for node in self.running():
                if info_fields(cli(node.port, "CLUSTER", "INFO")).get("cluster_state") != "ok":
                    return False
                info = info_fields(cli(node.port, "INFO", "replication"))
                if info.get("role") == "slave" and info.get("master_link_status") != "up":
                    return False
            return len(self.primary_ports()) == self.primaries

        wait_for(ready, timeout, "the cluster to be ok")

    def node_table(self) -> list[list[str]]:
        """``CLUSTER NODES`` of a running node, one split line per node."""
        for node in self.running():
            try:
                return [line.split() for line in cli(node.port, "CLUSTER", "NODES").splitlines() if line]
            except RedisServerError:
                continue
        raise RedisServerError("no cluster node answers")

    def primary_ports(self) -> list[int]:
        """Ports of the live primaries that own slots."""
        ports = []
        for fields in self.node_table():
            flags = fields[2].split(",")
            if "master" in flags and "fail" not in flags and len(fields) > 8:
                ports.append(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
        return sorted(ports)

    def node_id(self, port: int) -> str:
        return cli(port, "CLUSTER", "MYID")

    def owner_port(self, key: str) -> int:
        """Port of the primary serving ``key``'s slot now."""
        slot = int(cli(self.running()[0].port, "CLUSTER", "KEYSLOT", key))
        for fields in self.node_table():
            flags = fields[2].split(",")
            if "master" not in flags or "fail" in flags:
                continue
            for part in fields[8:]:
                if part.startswith("["):
                    continue
                low, _, high = part.partition("-")
                if int(low) <= slot <= int(high or low):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise RedisServerError(f"no primary serves slot {slot}")

    def server(self, port: int) -> RedisServer:
        return next(node for node in self.nodes if node.port == port)

    def redis_config(self, **overrides: Any) -> RedisConfig:
        seeds = [f"127.0.0.1:{port}" for port in self.ports[1:3]]
        values: dict[str, Any] = {"url": f"redis://127.0.0.1:{self.ports[0]}", "mode": "cluster", "nodes": seeds}
        return RedisConfig(**{**values, **overrides})

    def env(self) -> dict[str, str]:
        """The ``TRIALSTOCK_REDIS__*`` variables that reach this cluster."""
        return redis_env(self.redis_config())

    def flushall(self) -> None:
        for port in self.primary_ports():
            cli(port, "FLUSHALL")

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    def __enter__(self) -> ClusterServers:
        try:
            return self.start()
        except BaseException:
            self.close()  # the nodes that did start
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


class SentinelServers:
    """One primary, one replica and three sentinels; see the module doc."""

    mode = "sentinel"

    def __init__(self, *, service: str = SERVICE, sentinels: int = 3, down_after_ms: int = 1000) -> None:
        self.service = service
        self.primary = RedisServer(extra_args=FAST_SYNC)
        self.replica = RedisServer(extra_args=["--replicaof", "127.0.0.1", str(self.primary.port), *FAST_SYNC])
        self.sentinels: list[RedisServer] = []
        for _ in range(sentinels):
            sentinel = RedisServer()
            conf = Path(sentinel._dir) / "sentinel.conf"  # noqa: SLF001 - the server's own folder
            conf.write_text(
                f"sentinel monitor {service} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {service} {down_after_ms}\n"
                f"sentinel failover-timeout {service} 10000\n"
                f"sentinel parallel-syncs {service} 1\n"
            )
            sentinel.extra_args = ("--sentinel",)
            sentinel._conf = conf  # type: ignore[attr-defined]
            self.sentinels.append(sentinel)

    @property
    def data_nodes(self) -> list[RedisServer]:
        return [self.primary, self.replica]

    def start(self) -> SentinelServers:
        self.primary.start()
        self.replica.start()
        for sentinel in self.sentinels:
            _start_sentinel(sentinel)
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until the sentinels agree on a primary that has a replica in sync and know each other."""

        def ready() -> bool:
            port = self.primary_port()
            info = info_fields(cli(port, "INFO", "replication"))
            if info.get("role") != "master" or info.get("connected_slaves") != "1":
                return False
            for node in self.data_nodes:
                if node.port != port and node.running:
                    replica = info_fields(cli(node.port, "INFO", "replication"))
                    if replica.get("role") != "slave" or replica.get("master_link_status") != "up":
                        return False
            for sentinel in self.sentinels:
                fields = cli(sentinel.port, "SENTINEL", "MASTER", self.service).splitlines()
                found = dict(zip(fields[::2], fields[1::2]))
                if int(found.get("num-other-sentinels", 0)) < len(self.sentinels) - 1:
                    return False
                if int(found.get("num-slaves", 0)) < 1:
                    return False
            return True

        wait_for(ready, timeout, "sentinel to be ready")

    def primary_port(self) -> int:
        """The primary's port as the first sentinel sees it now."""
        reply = cli(self.sentinels[0].port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service).splitlines()
        return int(reply[1])

    def server(self, port: int) -> RedisServer:
        return next(node for node in self.data_nodes if node.port == port)

    def redis_config(self, **overrides: Any) -> RedisConfig:
        values: dict[str, Any] = {
            "mode": "sentinel",
            "sentinels": [f"127.0.0.1:{s.port}" for s in self.sentinels],
            "service_name": self.service,
        }
        return RedisConfig(**{**values, **overrides})

    def env(self) -> dict[str, str]:
        """The ``TRIALSTOCK_REDIS__*`` variables that reach the primary through the sentinels."""
        return redis_env(self.redis_config())

    def flushall(self) -> None:
        cli(self.primary_port(), "FLUSHALL")

    def close(self) -> None:
        for server in [*self.sentinels, self.replica, self.primary]:
            server.close()

    def __enter__(self) -> SentinelServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start_sentinel(sentinel: RedisServer) -> None:
    """redis-server in sentinel mode: its config file must come first on the command line."""
    conf: Path = sentinel._conf  # type: ignore[attr-defined]
    log = open(Path(sentinel._dir) / "redis.log", "ab")  # noqa: SIM115, SLF001 - handed to the child
    try:
        sentinel._proc = subprocess.Popen(  # noqa: SLF001
            [sentinel.binary, str(conf), "--port", str(sentinel.port), "--bind", "127.0.0.1", "--sentinel"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        log.close()
    sentinel._wait_ready()  # noqa: SLF001


def redis_env(config: RedisConfig) -> dict[str, str]:
    """``config`` as the environment of a server, worker or CLI process."""
    env = {"TRIALSTOCK_REDIS__MODE": config.mode}
    if config.url is not None:
        env["TRIALSTOCK_REDIS__URL"] = config.url.get_secret_value()
    if config.nodes:
        env["TRIALSTOCK_REDIS__NODES"] = ",".join(config.nodes)
    if config.sentinels:
        env["TRIALSTOCK_REDIS__SENTINELS"] = ",".join(config.sentinels)
        env["TRIALSTOCK_REDIS__SERVICE_NAME"] = config.service_name
    return env
