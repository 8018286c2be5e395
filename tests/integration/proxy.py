"""A TCP proxy on 127.0.0.1 that can cut a connection once, mid-response (a real dropped
connection between a client library and a real server)."""

from __future__ import annotations

import socket
import threading


class CuttingProxy:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.cut_after: int | None = None  # cut the next response stream after this many bytes
        self.cuts = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, up, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(up, client, True), daemon=True).start()

    def _pipe(self, src, dst, downstream: bool):
        sent = 0
        try:
            while data := src.recv(65536):
                if downstream:
                    with self.lock:
                        limit = self.cut_after
                    if limit is not None and sent + len(data) > limit:
                        with self.lock:
                            if self.cut_after is not None:
                                self.cut_after = None
                                self.cuts += 1
                        dst.sendall(data[: max(limit - sent, 0)])
                        raise OSError("cut")
                    sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def stop(self):
        self.sock.close()
