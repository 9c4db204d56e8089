"""Helper of bench/scale.sh: `seed` writes the file rows, `measure` times the routes.

seed DB N...            folder /n<N> gets N rows f0000000.txt.. on the library's one blob
measure URL KEY PID IDLE_KIB REPEAT DB N...
                        prints a Markdown table and the goals, PASS or FAIL
"""

import http.client
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid


def seed(db, sizes):
    c = sqlite3.connect(db)
    c.execute("PRAGMA foreign_keys = ON")
    org_id, blob = c.execute(
        "SELECT x.org_id, x.blob_id FROM files x WHERE x.name = 'seed.txt'"
    ).fetchone()
    now = int(time.time())
    for n in sizes:
        (folder_id,) = c.execute(
            "SELECT id FROM folders WHERE name = ? AND org_id = ?", (f"n{n}", org_id)
        ).fetchone()
        rows = (
            (str(uuid.uuid4()), org_id, folder_id, f"f{i:07d}.txt", blob, now)
            for i in range(n)
        )
        c.executemany(
            "INSERT INTO files (uuid, org_id, folder_id, name, mime, visibility, blob_id,"
            " created_at, modified_at) VALUES (?, ?, ?, ?, 'text/plain', 'ORG', ?, ?, ?)",
            ((u, o, f, name, b, t, t) for (u, o, f, name, b, t) in rows),
        )
        c.commit()
    c.close()


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)

    def get(self, path, headers=None):
        self.conn.request("GET", path, headers=headers or {})
        r = self.conn.getresponse()
        body = r.read()
        return r.status, body

    def timed(self, path, repeat):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            status, body = self.get(path)
            times.append((time.perf_counter() - t) * 1000)
            if status != 200:
                sys.exit(f"GET {path}: {status} {body[:300]!r}")
        return statistics.median(times), len(body)


def api(client, key, method, path, body=None):
    headers = {"X-Filerobot-Key": key, "Content-Type": "application/json"}
    client.conn.request(method, "/default" + path, body=json.dumps(body) if body else None,
                        headers=headers)
    r = client.conn.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data)


def kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def zip_times(url):
    out = subprocess.run(
        ["curl", "-sS", "--fail", "-o", "/dev/null", "-w",
         "%{time_starttransfer} %{time_total} %{size_download}", url],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return float(out[0]) * 1000, float(out[1]), int(out[2])


def measure(url, key, pid, idle_kib, repeat, db, sizes):
    c = Client(url)
    rows = []
    base_ms = {}
    goals = []
    con = sqlite3.connect(db)
    for n in sizes:
        folder = api(c, key, "GET", f"/v4/folders?folder=/n{n}")["folder"]["uuid"]
        share = api(c, key, "POST", "/v5/shares", {
            "title": f"Scale {n}", "permissions": "READ+DOWNLOAD",
            "items": [{"type": "folder_uuid", "identifiers": [folder],
                       "options": {"recursive": True, "visibility": "PUB,ORG"}}]})["share"]
        path = urllib.parse.urlsplit(share["share_uri"]).path
        (middle,) = con.execute(
            "SELECT uuid FROM files WHERE name = ? AND folder_id ="
            " (SELECT id FROM folders WHERE uuid = ?)", (f"f{n // 2:07d}.txt", folder)
        ).fetchone()
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        page_ms, _ = c.timed(path, repeat)
        first_ms, first_bytes = c.timed(f"{path}?folder={folder}", repeat)
        last_key = urllib.parse.quote(f"f:f{n - 201:07d}.txt", safe="")
        last_ms, _ = c.timed(f"{path}?folder={folder}&after={last_key}&at={n - 200}", repeat)
        file_ms, _ = c.timed(f"{path}/files/{middle}", repeat)
        cold_first, cold_total, zip_bytes = zip_times(url + path + "/zip")
        warm = [zip_times(url + path + "/zip") for _ in range(3)]
        warm_first = statistics.median(w[0] for w in warm)
        warm_total = statistics.median(w[1] for w in warm)
        peak = kib(pid, "VmHWM")
        rate = n / warm_total
        rows.append((n, page_ms, first_ms, first_bytes, last_ms, file_ms, cold_first,
                     cold_total, warm_first, warm_total, rate, zip_bytes, peak))
        if not base_ms:
            base_ms = {"page": page_ms, "first": first_ms, "last": last_ms, "file": file_ms}
        for name, v in (("page", page_ms), ("first folder page", first_ms),
                        ("last folder page", last_ms), ("one-file download", file_ms)):
            b = base_ms[name.split()[0] if name != "one-file download" else "file"]
            goals.append((f"N = {n:,}: {name} p50 ≤ 2x N = {sizes[0]:,} ({v:.2f} ms vs {b:.2f} ms)",
                          v <= 2 * max(b, 0.5)))
        if n <= 100_000:
            goals.append((f"N = {n:,}: zip first byte ≤ 50 ms with the plan kept ({warm_first:.1f} ms)",
                          warm_first <= 50))
        goals.append((f"N = {n:,}: zip ≥ 20,000 entries/s ({rate:,.0f})", rate >= 20_000))
        goals.append((f"N = {n:,}: peak RSS ≤ idle + 32 MiB ({peak / 1024:.1f} vs {idle_kib / 1024:.1f} MiB)",
                      peak <= idle_kib + 32 * 1024))

    print("| N files | share page p50 ms | first folder page p50 ms (HTML KB) | last folder page p50 ms"
          " | one file p50 ms | zip first byte ms: first / plan kept | zip whole s: first / plan kept"
          " | zip entries/s | zip MB | peak RSS MiB (idle {:.1f}) |".format(idle_kib / 1024))
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (n, page, first, fbytes, last, file_, cf, ct, wf, wt, rate, zb, peak) in rows:
        print(f"| {n:,} | {page:.2f} | {first:.2f} ({fbytes / 1000:.0f}) | {last:.2f} | {file_:.2f}"
              f" | {cf:.1f} / {wf:.1f} | {ct:.2f} / {wt:.2f} | {rate:,.0f} | {zb / 1e6:.1f}"
              f" | {peak / 1024:.1f} |")
    print()
    print("Goals:")
    print()
    for text, ok in goals:
        print(f"- {text}: **{'PASS' if ok else 'FAIL'}**")


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], [int(x) for x in sys.argv[3:]])
    else:
        _, _, url, key, pid, idle, repeat, db, *sizes = sys.argv
        measure(url, key, int(pid), int(idle), int(repeat), db, [int(x) for x in sizes])
