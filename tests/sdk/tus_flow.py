"""Uploads a file to sharebox's /tus/ with tuspy, the Python tus client (tests/tus.rs).

usage: tus_flow.py <endpoint> <api-key> <file> [--chunk BYTES] [--folder PATH]
                   [--cut-after BYTES] [--throttle BYTES_PER_S] [--resume URL] [--retries N]

Prints one JSON line per event on stdout: {"event": "created", "url": ...} as soon as the upload
exists, then {"event": "done", "offset": ..., "file_uuid": ..., "cuts": ...}. Every chunk carries
`Upload-Checksum: sha1 ...` (tuspy's checksum). With --cut-after, the requests go through a small
TCP proxy in this script that drops the connection once, after that many bytes from the client:
mid-chunk; tuspy then asks the server for its offset (HEAD) and goes on from there. With
--resume, the upload at that URL is continued from the offset the server reports. --throttle
slows the client's bytes down (through the same proxy), so a test can act mid-request.
"""

import argparse
import json
import socket
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from tusclient import client


class CuttingProxy:
    """Forwards loopback TCP to `target`; the first connection to carry `cut_after` bytes from
    the client is closed there, in the middle of whatever it was sending."""

    def __init__(self, target, cut_after, throttle):
        self.target = target
        self.cut_after = cut_after
        self.throttle = throttle
        self.cuts = 0
        self.lock = threading.Lock()
        self.sent = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.listener.accept()
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self.pipe, args=(conn, upstream, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, conn, False), daemon=True).start()

    def pipe(self, src, dst, from_client):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.throttle:
                    time.sleep(len(data) / self.throttle)
                if from_client and self.cut_after:
                    with self.lock:
                        before = self.sent
                        self.sent += len(data)
                        cut = self.cuts == 0 and self.sent >= self.cut_after
                        if cut:
                            self.cuts = 1
                    if cut:
                        dst.sendall(data[: max(0, self.cut_after - before)])
                        break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def say(**event):
    print(json.dumps(event), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("key")
    ap.add_argument("file")
    ap.add_argument("--chunk", type=int, default=5 * 1024 * 1024)
    ap.add_argument("--folder", default="/")
    ap.add_argument("--cut-after", type=int, default=0)
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--retries", type=int, default=0)
    a = ap.parse_args()

    endpoint = a.endpoint
    proxy = None
    if a.cut_after or a.throttle:
        parts = urlsplit(endpoint)
        proxy = CuttingProxy((parts.hostname, parts.port), a.cut_after, a.throttle)
        endpoint = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))

    tus = client.TusClient(endpoint, headers={"X-Filerobot-Key": a.key})
    url = a.resume
    if url and proxy:
        url = urlunsplit(urlsplit(url)._replace(netloc=f"127.0.0.1:{proxy.port}"))
    name = a.file.rsplit("/", 1)[-1]
    up = tus.uploader(
        a.file,
        url=url,
        chunk_size=a.chunk,
        metadata={"filename": name, "folder": a.folder, "filetype": "application/octet-stream"},
        upload_checksum=True,
        retries=a.retries,
        retry_delay=0,
    )
    if not up.url:
        created = up.create_url()
        if proxy:
            # The server's Location names the server; the requests keep going through the proxy.
            created = urlunsplit(urlsplit(created)._replace(netloc=f"127.0.0.1:{proxy.port}"))
        up.set_url(created)
        up.offset = 0
    say(event="created", url=up.url, offset=up.offset)
    up.upload()
    headers = up.request.response_headers if up.request else {}
    say(
        event="done",
        offset=up.offset,
        file_uuid=headers.get("sharebox-file-uuid"),
        cuts=proxy.cuts if proxy else 0,
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test reads stderr
        print(f"tus_flow.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
