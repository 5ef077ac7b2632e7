"""The stall watchdog of an SSH connection: no wait on a silent server lasts longer than the timeout.

paramiko bounds the TCP connect, the banner, the key exchange, authentication and each SFTP reply
with its own timeouts, but some waits it leaves open: starting the ``sftp`` subsystem, the SFTP
version exchange, and a socket write blocked because the server stopped reading. ``Link`` is the
connection's progress clock: ``WatchedSocket`` (the socket paramiko's transport is given) records
when bytes last moved in either direction. ``Link.watch()`` runs a timer thread while an operation
is in progress; when nothing has moved for ``limit`` seconds it shuts the socket down, which makes
every blocked paramiko call fail at once, and ``Link.timed_out`` tells the caller why.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import paramiko

__all__ = ["Link", "WatchedSocket"]


class WatchedSocket(socket.socket):
    """A connected TCP socket that tells its ``Link`` whenever bytes are sent or received."""

    link: Link

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        if data:
            self.link.touch()
        return data

    def send(self, data: Any, flags: int = 0) -> int:
        sent = super().send(data, flags)
        if sent:
            self.link.touch()
        return sent


class Link:
    """The progress clock of one SSH connection and the switch that cuts it.

    ``transport_factory`` is given to ``SSHClient.connect``: it wraps the socket paramiko opened
    in a ``WatchedSocket`` and builds the Transport on it. ``watch()`` arms the watchdog for the
    duration of a ``with`` block; ``cut()`` shuts the socket down (also from another thread).
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.timed_out = False
        self._last = time.monotonic()
        self._sock: WatchedSocket | None = None
        self._cut = False
        self._lock = threading.Lock()

    def touch(self) -> None:
        """Record that bytes moved just now."""
        self._last = time.monotonic()

    def transport_factory(self, sock: socket.socket, **kwargs: Any) -> paramiko.Transport:
        """Wrap ``sock`` (connected by paramiko) and return a Transport over it."""
        return paramiko.Transport(self.attach(sock), **kwargs)

    def attach(self, sock: socket.socket) -> WatchedSocket:
        """``sock`` as a WatchedSocket of this link (``sock`` itself is detached and unusable)."""
        watched = WatchedSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        watched.link = self
        with self._lock:
            self._sock = watched
            cut = self._cut
        self.touch()
        if cut:  # the watchdog fired while the TCP connect was still in progress
            self._shutdown(watched)
        return watched

    def cut(self) -> None:
        """Shut the connection's socket down: every read and write on it fails from now on."""
        with self._lock:
            self._cut = True
            sock = self._sock
        if sock is not None:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Cut the connection if nothing moves on it for ``limit`` seconds inside this block."""
        self.touch()
        done = threading.Event()

        def watchdog() -> None:
            while True:
                remaining = self._last + self.limit - time.monotonic()
                if remaining <= 0:
                    self.timed_out = True
                    self.cut()
                    return
                if done.wait(remaining):
                    return

        thread = threading.Thread(target=watchdog, name="sftp-watchdog", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
