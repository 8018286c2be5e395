"""A small real SFTP server (paramiko's server classes) serving a local folder, read-only, on
127.0.0.1: `nightjar demo --via sftp` serves the demo files with it, and the tests use it.

It speaks the SSH and SFTP protocols over a TCP socket; tests inject faults on the server side
(``drop_after``: close the connection once after that many bytes were read; ``on_open``).
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import paramiko
from paramiko.sftp import SFTP_NO_SUCH_FILE, SFTP_OK


class _Auth(paramiko.ServerInterface):
    def __init__(self, server: SftpTestServer):
        self.server = server

    def check_auth_password(self, username, password):
        ok = username == self.server.username and password == self.server.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        ok = (
            username == self.server.username
            and self.server.client_key is not None
            and key == self.server.client_key
        )
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_channel_request(self, kind, chanid):
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )


class _Handle(paramiko.SFTPHandle):
    def __init__(self, server: SftpTestServer, transport: paramiko.Transport, flags=0):
        super().__init__(flags)
        self.server, self.transport = server, transport

    def read(self, offset, length):
        srv = self.server
        with srv.lock:
            srv.bytes_read += length
            drop = srv.drop_after is not None and srv.bytes_read > srv.drop_after
            if drop:
                srv.drop_after = None  # once
                srv.drops += 1
        if drop:
            self.transport.close()
            return paramiko.sftp.SFTP_CONNECTION_LOST
        return super().read(offset, length)


class _Sftp(paramiko.SFTPServerInterface):
    def __init__(self, server, *args, **kwargs):
        self.ssh_server = server
        super().__init__(server, *args, **kwargs)

    def _real(self, path: str) -> str:
        return str(self.ssh_server.test_server.root / path.lstrip("/").removeprefix("./"))

    def list_folder(self, path):
        real = self._real(path)
        try:
            out = []
            for name in os.listdir(real):
                attr = paramiko.SFTPAttributes.from_stat(os.stat(os.path.join(real, name)))
                attr.filename = name
                out.append(attr)
            return out
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)

    def stat(self, path):
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as e:
            return paramiko.SFTPServer.convert_errno(e.errno)

    lstat = stat

    def open(self, path, flags, attr):
        srv = self.ssh_server.test_server
        if srv.on_open:
            srv.on_open(path)
        try:
            fh = open(self._real(path), "rb")
        except FileNotFoundError:
            return SFTP_NO_SUCH_FILE
        h = _Handle(srv, self.ssh_server.transport, flags)
        h.readfile = fh
        h.filename = self._real(path)
        return h

    def canonicalize(self, path):
        return "/" + path.lstrip("/")

    def session_ended(self):
        return SFTP_OK


class SftpTestServer:
    """Serve ``root`` over SFTP on 127.0.0.1:<free port> until ``stop()``."""

    def __init__(self, root: Path, username: str = "nightjar", password: str = "s3cret-pw"):
        self.root, self.username, self.password = root, username, password
        self.client_key: paramiko.PKey | None = None
        self.host_key = paramiko.ECDSAKey.generate()
        self.drop_after: int | None = None
        self.drops = 0
        self.bytes_read = 0
        self.logins = 0
        self.on_open = None
        self.lock = threading.Lock()
        self._channels: list = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        t = paramiko.Transport(conn)
        t.add_server_key(self.host_key)
        t.set_subsystem_handler("sftp", paramiko.SFTPServer, _Sftp)
        srv = _Auth(self)
        t.test_server = self  # reached from the SFTP handler through its ServerInterface
        srv.test_server = self
        srv.transport = t
        try:
            t.start_server(server=srv)
        except (paramiko.SSHException, EOFError, OSError):
            return
        chan = t.accept(20)
        with self.lock:
            self._channels.append(chan)  # a channel that is garbage-collected closes

    def reset(self):
        self.drop_after, self.drops, self.bytes_read, self.on_open = None, 0, 0, None

    def stop(self):
        self._stop.set()
        for c in self._channels:
            if c is not None:
                c.get_transport().close()
        self.sock.close()
