#!/usr/bin/env python3
"""Drive Nomad's published Python SDK (PyPI `nomad-media-pip` 0.1.9, pinned in setup_venv.sh)
against a running sharebox, and check the server's state over plain HTTP after every step.

Run with the venv made by tests/sdk/setup_venv.sh:

    SHAREBOX_BASE=http://127.0.0.1:40123 SHAREBOX_KEY=<api key> \
    SHAREBOX_ADMIN_EMAIL=... SHAREBOX_ADMIN_PASSWORD=... \
    SHAREBOX_PORTAL_EMAIL=... SHAREBOX_PORTAL_PASSWORD=... \
        <venv>/bin/python tests/sdk/nomad_flow.py

What the SDK sends (read from its source in site-packages/nomad_media_pip/src):
- every call goes through helpers/send_request.py: `requests.request` with `Content-Type:
  application/json`, `Authorization: Bearer <token>`, the body JSON-encoded only when non-empty;
  on a 403 it refreshes the access token once (POST /api/account/refresh-token) and retries;
  on any other error it logs and returns None, so every step here also checks the server.
- upload_asset: POST /api/asset/upload/start (chunkSize 8 MiB), then each part's bytes with
  `requests.put(part["url"])` from 3 threads, part complete with the ETag header, then
  POST /api/asset/upload/{id}/complete; it returns the start answer's `assetId`.
- the share calls (share_asset, share, get_share, update_share = GET then PUT of the GET answer
  with the given fields replaced, share_notification, share_expire, delete_share) need
  `apiType: portal`; upload_asset, get_asset, create_folder_asset and search need `admin`.

The SDK is used unchanged: the script only records each HTTP exchange (at
requests.adapters.HTTPAdapter.send, a pass-through) to show what was sent and answered.
Exit status: 0 all steps passed, 1 a step failed, 2 bad environment / SDK missing.
"""

import hashlib
import json
import os
import random
import sys
import tempfile

try:
    import requests
    from requests.adapters import HTTPAdapter
    from nomad_media_pip.src.nomad_sdk import Nomad_SDK
except ImportError as exc:  # pragma: no cover
    print(f"FAIL setup: cannot import nomad_media_pip ({exc}); run tests/sdk/setup_venv.sh <venv> "
          f"and use <venv>/bin/python", file=sys.stderr)
    sys.exit(2)

MIB = 1024 * 1024
LOOKUP = "00000000-5b0c-4000-8000-0000000000{:02d}"


def lookup(nn, description):
    return {"id": LOOKUP.format(nn), "description": description}


class Failure(Exception):
    pass


RECORDS = []  # (method, path, status) of every exchange, in order
_original_send = HTTPAdapter.send


def _recording_send(self, request, **kwargs):
    response = _original_send(self, request, **kwargs)
    path = request.path_url.split("?")[0]
    RECORDS.append((request.method, path, response.status_code))
    return response


HTTPAdapter.send = _recording_send

BASE = os.environ.get("SHAREBOX_BASE", "").rstrip("/")
KEY = os.environ.get("SHAREBOX_KEY", "")
STEPS = []


def check(cond, what):
    if not cond:
        raise Failure(what)


def eq(got, want, what):
    if got != want:
        raise Failure(f"{what}: got {json.dumps(got, indent=1)}\nwant {json.dumps(want, indent=1)}")


def http(method, path, token=None, body=None, expect=200):
    """A plain HTTP call (not the SDK) with the org's API key, or a Bearer token."""
    headers = {"Authorization": f"Bearer {token}" if token else f"ApiKey {KEY}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    r = requests.request(method, BASE + path, headers=headers,
                         data=None if body is None else json.dumps(body), timeout=30)
    if r.status_code != expect:
        raise Failure(f"{method} {path}: {r.status_code} (want {expect}) {r.text[:500]}")
    return r.json() if r.content else None


def step(name):
    def wrap(fn):
        def run(*a, **kw):
            before = len(RECORDS)
            try:
                out = fn(*a, **kw)
            except Failure as e:
                sent = "\n".join(f"  {m} {p} -> {s}" for m, p, s in RECORDS[before:])
                raise Failure(f"step '{name}': {e}\nHTTP during the step:\n{sent}") from None
            STEPS.append(name)
            print(f"ok  {len(STEPS):2d} {name}", flush=True)
            return out
        return run
    return wrap


def sdk(username, password, api_type):
    return Nomad_SDK({
        "serviceApiUrl": BASE + "/",
        "apiType": api_type,
        "username": username,
        "password": password,
        "singleton": False,
        "disableLogging": False,
    })


def main():
    for var in ["SHAREBOX_BASE", "SHAREBOX_KEY", "SHAREBOX_ADMIN_EMAIL", "SHAREBOX_ADMIN_PASSWORD",
                "SHAREBOX_PORTAL_EMAIL", "SHAREBOX_PORTAL_PASSWORD"]:
        if not os.environ.get(var):
            print(f"FAIL setup: {var} is not set", file=sys.stderr)
            return 2
    admin_email = os.environ["SHAREBOX_ADMIN_EMAIL"]
    portal_email = os.environ["SHAREBOX_PORTAL_EMAIL"]
    ctx = {}

    @step("login as admin and as portal (two SDK instances, singleton: false)")
    def login():
        admin = sdk(admin_email, os.environ["SHAREBOX_ADMIN_PASSWORD"], "admin")
        portal = sdk(portal_email, os.environ["SHAREBOX_PORTAL_PASSWORD"], "portal")
        check(admin is not portal, "singleton: false must give two instances")
        check(admin.token and portal.token and admin.token != portal.token, "both logged in")
        eq(admin.expiration_seconds, 3600, "expirationSeconds")
        # Plain HTTP: each token is its user's.
        for client in (admin, portal):
            r = http("POST", "/api/admin/search", token=client.token,
                     body={"filters": [{"fieldName": "assetType", "operator": "Equals", "values": 1}]})
            check(r["totalItemCount"] >= 1, "the root folder is found")
        ctx["admin"], ctx["portal"] = admin, portal
        ctx["admin_id"], ctx["portal_id"] = admin.id, portal.id
        eq(RECORDS[:2], [("POST", "/api/account/login", 200), ("POST", "/api/account/login", 200)], "logins")

    @step("create a folder (admin)")
    def folder():
        root = http("POST", "/api/admin/search",
                    body={"filters": [{"fieldName": "assetType", "values": "Folder"}],
                          "sortFields": [{"fieldName": "title", "sortType": "Ascending"}]})["items"][0]
        eq(root["identifiers"]["parentId"], None, "the root comes first")
        made = ctx["admin"].create_folder_asset(root["id"], "sdk-uploads")
        check(made is not None, "create_folder_asset returned None")
        eq(http("GET", f"/api/admin/asset/{made['id']}"), made, "the folder over HTTP")
        eq(made["displayPath"], "/sdk-uploads", "its path")
        ctx["folder"] = made["id"]

    @step("upload a 9 MiB file in two parts (admin)")
    def upload():
        rng = random.Random(6)
        data = rng.randbytes(9 * MIB)
        path = os.path.join(ctx["dir"], "nine-mib.bin")
        with open(path, "wb") as f:
            f.write(data)
        before = len(RECORDS)
        asset_id = ctx["admin"].upload_asset(None, None, None, "replace", path, ctx["folder"])
        check(asset_id is not None, "upload_asset returned None")
        sent = RECORDS[before:]
        puts = [r for r in sent if r[0] == "PUT"]
        eq(len(puts), 2, f"part PUTs ({sent})")
        check(all(r[1].startswith("/api/asset/upload/part/") and r[2] == 200 for r in puts), f"{puts}")
        completes = [r for r in sent if r[1].endswith("/complete")]
        eq([r[2] for r in completes], [200, 200, 200], "two part completes and the upload's")
        eq(sent[0][:2], ("POST", "/api/asset/upload/start"), "start first")
        eq(sent[-1][:2], ("POST", completes[-1][1]), "the upload completes last")
        asset = http("GET", f"/api/admin/asset/{asset_id}")
        eq((asset["contentLength"], asset["displayName"], asset["parentId"], asset["displayPath"]),
           (9 * MIB, "nine-mib.bin", ctx["folder"], "/sdk-uploads/nine-mib.bin"), "the asset")
        detail = http("GET", f"/api/asset/{asset_id}/detail")
        eq(detail["properties"]["sha256"], hashlib.sha256(data).hexdigest(), "the bytes stored")
        ctx["asset"], ctx["data"] = asset_id, data

    @step("read the asset (admin: get_asset, get_asset_details, search)")
    def read_asset():
        a = ctx["admin"].get_asset(ctx["asset"])
        eq(a, http("GET", f"/api/admin/asset/{ctx['asset']}"), "get_asset")
        d = ctx["admin"].get_asset_details(ctx["asset"])
        eq(d["assetId"], ctx["asset"], "detail assetId")
        eq([p["displayPath"] for p in d["parents"]], ["/", "/sdk-uploads"], "parents")
        s = ctx["admin"].search(filters=[{"fieldName": "parentId", "operator": "Equals", "values": ctx["folder"]}])
        eq([i["id"] for i in s["items"]], [ctx["asset"]], "search by parentId")
        eq(s["totalItemCount"], 1, "totalItemCount")

    @step("share_asset (portal)")
    def share_asset():
        s = ctx["portal"].share_asset(ctx["asset"], nomad_users=[{"id": ctx["admin_id"]}],
                                      external_users=[{"id": "client@example.com"}],
                                      shared_duration_in_hours=24)
        check(s is not None, "share_asset returned None")
        g = http("GET", f"/api/share/{s['id']}")
        eq(g, s, "the share over HTTP")
        eq((g["name"], g["assetId"], g["sharedDurationInHours"], g["sharedDuration"], g["ownerId"]),
           ("nine-mib.bin", ctx["asset"], 24, lookup(32, "1 Day"), ctx["portal_id"]), "share_asset fields")
        eq(g["nomadUsers"], [{"id": ctx["admin_id"], "description": admin_email}], "nomadUsers")
        eq(g["externalUsers"], ["client@example.com"], "externalUsers")
        ctx["asset_share"] = s["id"]

    @step("share (portal): a new share with the SDK's full ShareModel")
    def share():
        s = ctx["portal"].share(name="SDK share", shared_contents=[ctx["asset"]],
                                shared_duration=lookup(33, "1 Week"),
                                shared_permissions=[lookup(21, "View")],
                                shared_type=lookup(1, "Link"), asset_id=ctx["asset"],
                                nomad_users=[{"id": ctx["portal_id"]}])
        check(s is not None, "share returned None")
        g = http("GET", f"/api/share/{s['id']}")
        eq(g, s, "the share over HTTP")
        eq((g["name"], g["sharedContents"], g["sharedPermissions"], g["sharedDurationInHours"],
            g["sharedStatus"], g["sharedType"]),
           ("SDK share", [ctx["asset"]], [lookup(21, "View")], 168, lookup(11, "Active"), lookup(1, "Link")),
           "share fields")
        v5 = http("GET", f"/{os.environ.get('SHAREBOX_ORG', 'default')}/v5/shares/{s['id']}")["share"]
        eq((v5["title"], v5["permissions"], v5["expires_at"]), ("SDK share", "READ", g["expirationDate"]), "v5 view")
        ctx["share"] = s["id"]

    @step("get_share (portal)")
    def get_share():
        s = ctx["portal"].get_share(ctx["share"])
        eq(s, http("GET", f"/api/share/{ctx['share']}"), "get_share")
        ctx["before_update"] = s

    @step("update_share (portal): a new name, everything else echoed")
    def update_share():
        before = ctx["before_update"]
        u = ctx["portal"].update_share(ctx["share"], name="SDK share (renamed)")
        check(u is not None, "update_share returned None")
        g = http("GET", f"/api/share/{ctx['share']}")
        eq(g, u, "the share over HTTP")
        eq(g["name"], "SDK share (renamed)", "the new name")
        for k in before:
            if k not in ("name", "sharedLink", "lastModifiedDate"):
                eq(g[k], before[k], f"{k} unchanged")
        check(g["sharedLink"].endswith("/sdk-share-renamed"), g["sharedLink"])

    @step("share_notification (portal)")
    def notify():
        n = ctx["portal"].share_notification(ctx["share"], None, ["partner@example.com"])
        eq(n, {"id": ctx["share"], "notified": ["partner@example.com"]}, "share_notification")
        n = ctx["portal"].share_notification(ctx["share"], None, None)
        eq(n, {"id": ctx["share"], "notified": [portal_email]}, "notify everyone on the share")
        g = http("GET", f"/api/share/{ctx['share']}")
        eq(g["externalUsers"], [], "the address is mailed, never added")

    @step("stale access token: 403, the SDK refreshes and succeeds (share_expire)")
    def stale_then_expire():
        portal = ctx["portal"]
        old = portal.token
        # A second client refreshes the same session: the SDK's access token stops working.
        r = requests.post(BASE + "/api/account/refresh-token",
                          json={"refreshToken": portal.refresh_token_val}, timeout=30)
        eq(r.status_code, 200, "second client's refresh")
        eq(r.json()["refreshToken"], portal.refresh_token_val, "the refresh token is not rotated")
        other = r.json()["token"]
        stale = requests.get(BASE + f"/api/share/{ctx['share']}",
                             headers={"Authorization": f"Bearer {old}"}, timeout=30)
        eq(stale.status_code, 403, "the stale token")
        eq(stale.json()["code"], "INVALID_TOKEN", "its code")
        eq(stale.headers["content-type"], "application/problem+json", "its type")
        before = len(RECORDS)
        e = portal.share_expire(ctx["share"])
        check(e is not None, "share_expire returned None")
        path = f"/api/share/expire/{ctx['share']}"
        eq(RECORDS[before:], [("POST", path, 403), ("POST", "/api/account/refresh-token", 200), ("POST", path, 200)],
           "403, refresh, retry")
        check(portal.token not in (old, other), "the SDK holds a new token")
        g = http("GET", f"/api/share/{ctx['share']}", token=portal.token)
        eq(g["sharedStatus"], lookup(13, "Expired"), "expired")
        eq(g, e, "share_expire's answer")
        http("GET", f"/api/share/{ctx['share']}", token=other, expect=403)

    @step("delete_share (portal)")
    def delete_share():
        for sid in (ctx["share"], ctx["asset_share"]):
            d = ctx["portal"].delete_share(sid)
            eq(d, {"id": sid}, "delete_share")
            gone = http("GET", f"/api/share/{sid}", expect=404)
            eq(gone["code"], "NOT_FOUND", "404 at the end")

    with tempfile.TemporaryDirectory() as d:
        ctx["dir"] = d
        try:
            for s in (login, folder, upload, read_asset, share_asset, share, get_share, update_share,
                      notify, stale_then_expire, delete_share):
                s()
        except Failure as e:
            print(f"FAIL {e}", file=sys.stderr)
            return 1
    print(f"{len(STEPS)} steps passed")
    print(json.dumps({"asset": ctx["asset"], "folder": ctx["folder"], "shares": [ctx["share"], ctx["asset_share"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
