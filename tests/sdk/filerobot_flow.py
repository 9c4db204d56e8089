#!/usr/bin/env python3
"""Drive the published Filerobot Python SDK (PyPI `filerobot`, pinned in setup_venv.sh) against sharebox.

Run with the venv made by tests/sdk/setup_venv.sh:

    SHAREBOX_BASE=http://127.0.0.1:40123 SHAREBOX_TOKEN=<org token> SHAREBOX_KEY=<api key> \
        <venv>/bin/python tests/sdk/filerobot_flow.py

The SDK hard-codes `https://api.filerobot.com` in every method and sends its requests both with
module-level `requests.get/post/...` and with a `requests.Session` carrying its own HTTPAdapter.
Every one of those ends in `requests.adapters.HTTPAdapter.send`, so that is where this script
swaps scheme + host for SHAREBOX_BASE; method, path, query, headers and body stay exactly as the
SDK built them. Each request and the response it got are recorded, and every step asserts on the
recorded HTTP answer (status, body), not only on what the SDK returned.

Optional: SHAREBOX_SDK_TRACE=<file> writes every recorded exchange as JSON lines to that file.
Exit status: 0 all steps passed, 1 a step failed, 2 bad environment / SDK missing.
See tests/sdk/FILEROBOT_SDK_NOTES.md for what each SDK method sends.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import uuid as uuidlib

try:
    import requests  # noqa: F401  (pulled in with the SDK; filerobot itself declares no deps)
    from requests.adapters import HTTPAdapter
    from requests.structures import CaseInsensitiveDict
    import filerobot
    from filerobot import Filerobot
except ImportError as exc:  # pragma: no cover
    print(f"FAIL setup: cannot import the Filerobot SDK ({exc}); run tests/sdk/setup_venv.sh <venv> "
          f"and use <venv>/bin/python", file=sys.stderr)
    sys.exit(2)

SDK_HOST = "https://api.filerobot.com"  # hard-coded in every method of filerobot 0.0.25

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Failure(Exception):
    pass


# --------------------------------------------------------------------------------------------
# transport: redirect + record
# --------------------------------------------------------------------------------------------

RECORDS = []  # one dict per HTTP exchange, in order
BASE = ""     # set in main()

_original_send = HTTPAdapter.send


def _redirecting_send(self, request, **kwargs):
    sdk_url = request.url
    if not sdk_url.startswith(SDK_HOST + "/"):
        # never let the SDK reach anything but our server
        raise Failure(f"SDK tried to reach an unexpected URL: {request.method} {sdk_url}")
    request.url = BASE + sdk_url[len(SDK_HOST):]
    # The proxies requests picked were computed for api.filerobot.com from the environment;
    # loopback test traffic must go straight to the server.
    kwargs["proxies"] = {}
    path, _, query = sdk_url[len(SDK_HOST):].partition("?")
    rec = {
        "method": request.method,
        "sdk_url": sdk_url,
        "url": request.url,
        "path": path,
        "query": query,
        "headers": CaseInsensitiveDict(request.headers),
        "body": request.body,
    }
    RECORDS.append(rec)
    try:
        resp = _original_send(self, request, **kwargs)
    except Exception as exc:
        rec["error"] = repr(exc)
        raise
    rec["status"] = resp.status_code
    # HTTP header names are case-insensitive; keep them so (servers may send lower case).
    rec["resp_headers"] = CaseInsensitiveDict(resp.headers)
    rec["content"] = resp.content  # cached on the Response, the SDK still reads it
    return resp


HTTPAdapter.send = _redirecting_send


def _short(data, limit=600):
    if data is None:
        return ""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(data)} bytes>"
    return data if len(data) <= limit else data[:limit] + f"... <{len(data)} chars>"


def describe(rec):
    line = f"{rec['method']} {rec['path']}" + (f"?{rec['query']}" if rec["query"] else "")
    if "error" in rec:
        return f"{line} -> transport error {rec['error']}"
    out = f"{line} -> {rec.get('status')}"
    ctype = rec.get("resp_headers", {}).get("Content-Type", "")
    out += f" [{ctype}]"
    if rec["body"]:
        out += f"\n      request body: {_short(rec['body'], 300)}"
    out += f"\n      response body: {_short(rec.get('content'))}"
    return out


def write_trace():
    path = os.environ.get("SHAREBOX_SDK_TRACE")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as fh:
        for rec in RECORDS:
            row = {k: (dict(v) if isinstance(v, CaseInsensitiveDict) else v) for k, v in rec.items()}
            row["body"] = _short(rec["body"], 4000)
            row["content"] = _short(rec.get("content"), 4000)
            fh.write(json.dumps(row) + "\n")


# --------------------------------------------------------------------------------------------
# assertion helpers
# --------------------------------------------------------------------------------------------

def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run_sdk(fn, *args, raises=None, **kwargs):
    """Call one SDK method; return (return value or raised exception, records it produced)."""
    global LAST_CALL
    LAST_CALL = fn.__name__
    start = len(RECORDS)
    try:
        ret = fn(*args, **kwargs)
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001
        if raises is not None and isinstance(exc, raises):
            return exc, RECORDS[start:]
        raise Failure(f"SDK call {fn.__name__} raised {type(exc).__name__}: {exc}") from exc
    if raises is not None:
        raise Failure(f"SDK call {fn.__name__} was expected to raise {raises.__name__} but returned {ret!r}")
    return ret, RECORDS[start:]


def expect_requests(recs, expected):
    """expected: list of (method, path, query) the SDK must have sent, in order (query None = none)."""
    got = [(r["method"], r["path"], r["query"] or None) for r in recs]
    want = [(m, p, q) for (m, p, q) in expected]
    check(got == want, f"SDK sent {got}, expected {want}")
    for r in recs:
        check(r["headers"].get("X-filerobot-Key") == KEY,
              f"{r['method']} {r['path']}: X-filerobot-Key header is not the configured key")
        check("error" not in r, f"{r['method']} {r['path']}: transport error {r.get('error')}")


def json_of(rec):
    ctype = rec["resp_headers"].get("Content-Type", "")
    check(ctype == "application/json",
          f"{rec['method']} {rec['path']}: Content-Type is {ctype!r}, API.md wants exactly 'application/json'")
    try:
        return json.loads(rec["content"])
    except ValueError as exc:
        raise Failure(f"{rec['method']} {rec['path']}: response is not JSON ({exc})")


def success(rec):
    check(rec["status"] == 200, f"{rec['method']} {rec['path']}: status {rec['status']}, expected 200")
    body = json_of(rec)
    check(isinstance(body, dict) and body.get("status") == "success",
          f"{rec['method']} {rec['path']}: body has no \"status\":\"success\"")
    return body


def error(rec, status, code):
    check(rec["status"] == status,
          f"{rec['method']} {rec['path']}: status {rec['status']}, expected {status} {code}")
    body = json_of(rec)
    check(body.get("status") == "error", f"{rec['method']} {rec['path']}: body has no \"status\":\"error\"")
    check(body.get("code") == code, f"{rec['method']} {rec['path']}: code {body.get('code')!r}, expected {code!r}")
    check(isinstance(body.get("msg"), str) and body["msg"], f"{rec['method']} {rec['path']}: error without msg")
    return body


def is_uuid(v):
    return isinstance(v, str) and bool(UUID_RE.match(v))


def is_time(v):
    return isinstance(v, str) and bool(TIME_RE.match(v))


def check_folder(folder, where, name=None, path=None, uuid=None, parent_uuid=None):
    check(isinstance(folder, dict), f"{where}: folder is not an object")
    for key in ("uuid", "name", "path", "parent_uuid", "created_at", "updated_at"):
        check(key in folder, f"{where}: folder lacks {key!r}")
    check(is_uuid(folder["uuid"]), f"{where}: folder.uuid {folder['uuid']!r} is not a lower-case uuid")
    check(is_time(folder["created_at"]) and is_time(folder["updated_at"]),
          f"{where}: folder times not RFC 3339 UTC seconds: {folder['created_at']!r} {folder['updated_at']!r}")
    if name is not None:
        check(folder["name"] == name, f"{where}: folder.name {folder['name']!r}, expected {name!r}")
    if path is not None:
        check(folder["path"] == path, f"{where}: folder.path {folder['path']!r}, expected {path!r}")
    if uuid is not None:
        check(folder["uuid"] == uuid, f"{where}: folder.uuid {folder['uuid']!r}, expected {uuid!r}")
    if parent_uuid is not None:
        check(folder["parent_uuid"] == parent_uuid,
              f"{where}: folder.parent_uuid {folder['parent_uuid']!r}, expected {parent_uuid!r}")


def pretty_size(n):
    units = ["B", "KB", "MB", "GB", "TB"]
    v, i = float(n), 0
    while v >= 1024 and i < len(units) - 1:
        v, i = v / 1024, i + 1
    return f"{v:.2f} {units[i]}"


def check_file(f, where, name, folder_uuid, folder_path, uuid=None):
    check(isinstance(f, dict), f"{where}: file is not an object")
    for key in ("uuid", "name", "extension", "type", "size", "hash", "visibility", "folder", "url",
                "meta", "created_at", "modified_at"):
        check(key in f, f"{where}: file lacks {key!r}")
    check(is_uuid(f["uuid"]), f"{where}: file.uuid {f['uuid']!r} is not a lower-case uuid")
    if uuid is not None:
        check(f["uuid"] == uuid, f"{where}: file.uuid {f['uuid']!r}, expected {uuid!r}")
    check(f["name"] == name, f"{where}: file.name {f['name']!r}, expected {name!r}")
    check(f["extension"] == "txt", f"{where}: file.extension {f['extension']!r}, expected 'txt'")
    check(isinstance(f["type"], str) and f["type"].split(";")[0].strip() == "text/plain",
          f"{where}: file.type {f['type']!r}, expected text/plain")
    check(isinstance(f["size"], dict) and f["size"].get("bytes") == len(CONTENT),
          f"{where}: file.size {f['size']!r}, expected bytes={len(CONTENT)}")
    check(f["size"].get("pretty") == pretty_size(len(CONTENT)),
          f"{where}: file.size.pretty {f['size'].get('pretty')!r}, expected {pretty_size(len(CONTENT))!r}")
    check(isinstance(f["hash"], dict) and f["hash"].get("sha256") == SHA256,
          f"{where}: file.hash {f['hash']!r}, expected sha256={SHA256}")
    check(f["visibility"] == "ORG", f"{where}: file.visibility {f['visibility']!r}, expected 'ORG' (default)")
    check(isinstance(f["folder"], dict) and f["folder"].get("uuid") == folder_uuid
          and f["folder"].get("name") == folder_path,
          f"{where}: file.folder {f['folder']!r}, expected uuid={folder_uuid} name={folder_path}")
    permalink = (f["url"] or {}).get("permalink", "")
    check(isinstance(permalink, str) and permalink.startswith(("http://", "https://"))
          and permalink.endswith(f"/{TOKEN}/v4/get/{f['uuid']}/download"),
          f"{where}: file.url.permalink {permalink!r} is not <base-url>/{TOKEN}/v4/get/<uuid>/download")
    check("path" in f["url"], f"{where}: file.url lacks 'path'")
    check(f["meta"] == {}, f"{where}: file.meta {f['meta']!r}, expected {{}}")
    check(is_time(f["created_at"]) and is_time(f["modified_at"]),
          f"{where}: file times not RFC 3339 UTC seconds: {f['created_at']!r} {f['modified_at']!r}")


# --------------------------------------------------------------------------------------------
# the flow
# --------------------------------------------------------------------------------------------

# 1500 known bytes: over 1 KiB so that size.pretty is unambiguous ("1.46 KB").
CONTENT = (b"sharebox <- filerobot sdk 0.0.25, known bytes\n" * 40)[:1500]
SHA256 = hashlib.sha256(CONTENT).hexdigest()
TOKEN = KEY = ""
STEP_NO = 0
LAST_CALL = ""


def step(title, detail=""):
    global STEP_NO
    STEP_NO += 1
    print(f"ok {STEP_NO:02d} {title}" + (f": {detail}" if detail else ""), flush=True)


def main():
    global BASE, TOKEN, KEY
    missing = [v for v in ("SHAREBOX_BASE", "SHAREBOX_TOKEN", "SHAREBOX_KEY") if not os.environ.get(v)]
    if missing:
        print(f"FAIL setup: environment variable(s) {', '.join(missing)} not set", file=sys.stderr)
        return 2
    BASE = os.environ["SHAREBOX_BASE"].rstrip("/")
    TOKEN = os.environ["SHAREBOX_TOKEN"]
    KEY = os.environ["SHAREBOX_KEY"]
    if not BASE.startswith(("http://", "https://")):
        print(f"FAIL setup: SHAREBOX_BASE {BASE!r} must start with http:// or https://", file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp(prefix="sharebox-sdk-")
    try:
        return flow(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def flow(tmp):
    run_id = uuidlib.uuid4().hex[:10]
    folder = f"sdk-flow-{run_id}"          # folder name (one level under the root)
    folder_path = f"/{folder}"
    folder2 = f"sdk-flow-{run_id}-renamed"
    local_name = "sdk-hello.txt"
    named = "sdk-named.txt"
    renamed = "sdk-renamed.txt"
    b64_name = "sdk-b64.txt"
    T = f"/{TOKEN}/v4"
    list_q = "recursive=0&limit=1000&offset=0&order=updated_at,asc"  # the SDK's fixed defaults

    local_file = os.path.join(tmp, local_name)
    with open(local_file, "wb") as fh:
        fh.write(CONTENT)

    fr = Filerobot(TOKEN, KEY)

    # 1. credential check: the SDK's only "validate" call (it has no key/info method)
    ret, recs = run_sdk(fr.check_and_set_filerobot_credentials)
    expect_requests(recs, [("GET", f"{T}/meta/model/fields", None)])
    body = success(recs[0])
    check(body.get("fields") == [], f"meta/model/fields: fields {body.get('fields')!r}, expected []")
    check(ret == "Credentials: OK" and fr.status_code_auth == 200, f"SDK returned {ret!r}")
    step("credentials accepted", "check_and_set_filerobot_credentials -> GET meta/model/fields 200")

    ret, recs = run_sdk(fr.get_metadata_field)
    expect_requests(recs, [("GET", f"{T}/meta/model/fields", None)])
    success(recs[0])
    check(ret == [], f"get_metadata_field returned {ret!r}, expected []")
    step("metadata fields", "get_metadata_field -> []")

    bad = Filerobot(TOKEN, "sb-not-a-key-" + run_id)
    exc, recs = run_sdk(bad.check_and_set_filerobot_credentials, raises=filerobot.WrongCredentialsError)
    expect_requests_bad = [(r["method"], r["path"], r["query"] or None) for r in recs]
    check(expect_requests_bad == [("GET", f"{T}/meta/model/fields", None)], f"SDK sent {expect_requests_bad}")
    error(recs[0], 401, "INVALID_KEY")
    check(bad.status_code_auth == 401, f"status_code_auth {bad.status_code_auth}")
    step("wrong key rejected", "401 INVALID_KEY -> WrongCredentialsError")

    # 2. folders
    ret, recs = run_sdk(fr.create_folder, folder_path)
    expect_requests(recs, [("POST", f"{T}/folders", None)])
    check(json.loads(recs[0]["body"]) == {"name": folder_path}, f"create_folder sent {recs[0]['body']!r}")
    body = success(recs[0])
    check(body.get("action") == "folder_created", f"create folder: action {body.get('action')!r}")
    check_folder(body.get("folder"), "create folder", name=folder, path=folder_path)
    fuuid = body["folder"]["uuid"]
    root_uuid = body["folder"]["parent_uuid"]
    check(body.get("folder_uuid") == fuuid, f"create folder: folder_uuid {body.get('folder_uuid')!r} != folder.uuid")
    check(is_uuid(root_uuid), f"create folder: parent_uuid {root_uuid!r} is not a uuid")
    check(ret == body, "create_folder did not return the answer body")
    step("create folder", f"{folder_path} uuid={fuuid}")

    exc, recs = run_sdk(fr.create_folder, folder_path, raises=filerobot.FolderExistsError)
    expect_requests(recs, [("POST", f"{T}/folders", None)])
    error(recs[0], 403, "FOLDER_EXISTS")
    step("create same folder again", "403 FOLDER_EXISTS -> FolderExistsError")

    ret, recs = run_sdk(fr.list_folder)
    expect_requests(recs, [("GET", f"{T}/folders", f"folder=/&{list_q}")])
    body = success(recs[0])
    check_folder(body.get("folder"), "list root folders", name="/", path="/", uuid=root_uuid)
    check(body["folder"]["parent_uuid"] is None, "list root folders: root parent_uuid is not null")
    folders = body.get("folders")
    check(isinstance(folders, list), "list root folders: no folders list")
    mine = [f for f in folders if f.get("uuid") == fuuid]
    check(len(mine) == 1, f"list root folders: created folder {fuuid} not listed once")
    check_folder(mine[0], "list root folders", name=folder, path=folder_path, parent_uuid=root_uuid)
    check(isinstance(body.get("total"), int) and body["total"] == len(folders),
          f"list root folders: total {body.get('total')!r} but {len(folders)} folders listed")
    step("list root folders", f"{len(folders)} folder(s), ours included")

    ret, recs = run_sdk(fr.inspect_folder, fuuid)
    expect_requests(recs, [("GET", f"{T}/folders/{fuuid}", None)])
    body = success(recs[0])
    check_folder(body.get("folder"), "inspect folder", name=folder, path=folder_path, uuid=fuuid,
                 parent_uuid=root_uuid)
    step("inspect folder", fuuid)

    ret, recs = run_sdk(fr.list_folder, path=folder)
    expect_requests(recs, [("GET", f"{T}/folders", f"folder=/{folder}&{list_q}")])
    body = success(recs[0])
    check_folder(body.get("folder"), "list new folder", uuid=fuuid, path=folder_path)
    check(body.get("folders") == [] and body.get("total") == 0,
          f"list new folder: expected no children, got folders={body.get('folders')!r} total={body.get('total')!r}")
    step("list new folder", "empty")

    # 3. files
    ret, recs = run_sdk(fr.upload_file_multipart, local_file, upload_filerobot_folder=folder)
    expect_requests(recs, [("POST", f"{T}/upload", f"folder=/{folder}")])
    ctype = recs[0]["headers"].get("Content-Type", "")
    check(ctype.startswith("multipart/form-data; boundary="), f"upload sent Content-Type {ctype!r}")
    check(f'name="{local_name}"; filename="{local_name}"'.encode() in recs[0]["body"],
          "upload: multipart part is not named after the file")
    body = success(recs[0])
    files = body.get("files")
    check(isinstance(files, list) and len(files) == 1, f"upload: files {files!r}, expected one file")
    check_file(files[0], "upload", local_name, fuuid, folder_path)
    check(body.get("file") == files[0], "upload: 'file' missing or differs from files[0]")
    a_uuid = files[0]["uuid"]
    # SDK 0.0.25 quirk: without name_file it reports an error dict even on success.
    check(isinstance(ret, dict) and ret.get("response") == body, f"upload_file_multipart returned {ret!r}")
    step("upload file", f"{local_name} uuid={a_uuid} {len(CONTENT)} bytes sha256={SHA256[:12]}...")

    ret, recs = run_sdk(fr.upload_file_multipart, local_file, upload_filerobot_folder=folder, name_file=named)
    check(len(recs) >= 1, "upload with name: the SDK sent nothing")
    up = success(recs[0])
    check(isinstance(up.get("files"), list) and len(up["files"]) == 1, "upload with name: expected one file")
    dup_name = "sdk-hello (2).txt"
    check_file(up.get("file"), "upload with name (taken name)", dup_name, fuuid, folder_path)
    b_uuid = up["file"]["uuid"]
    check(b_uuid != a_uuid, "upload with name: second upload reused the first file's uuid")
    check(ret == up, "upload_file_multipart(name_file=...) did not return the upload answer")
    step("upload same file again", f"stored as {dup_name!r} uuid={b_uuid}")
    # the SDK follows a named upload with PATCH /files/{uuid} {"name": name_file} (retried until a 200)
    expect_requests(recs, [("POST", f"{T}/upload", f"folder=/{folder}"), ("PATCH", f"{T}/files/{b_uuid}", None)])
    check(json.loads(recs[1]["body"]) == {"name": named}, f"rename sent {recs[1]['body']!r}")
    body = success(recs[1])
    check_file(body.get("file"), "upload with name (rename)", named, fuuid, folder_path, uuid=b_uuid)
    step("named upload renamed by the SDK", f"PATCH -> {named!r}")

    ret, recs = run_sdk(fr.rename_file, a_uuid, renamed)
    expect_requests(recs, [("PATCH", f"{T}/files/{a_uuid}", None)])
    check(json.loads(recs[0]["body"]) == {"name": renamed}, f"rename sent {recs[0]['body']!r}")
    body = success(recs[0])
    check_file(body.get("file"), "rename file", renamed, fuuid, folder_path, uuid=a_uuid)
    check(ret == 200, f"rename_file returned {ret!r}, expected 200")
    step("rename file", f"{local_name} -> {renamed}")

    exc, recs = run_sdk(fr.rename_file, b_uuid, renamed, raises=filerobot.FileNameExistError)
    expect_requests(recs, [("PATCH", f"{T}/files/{b_uuid}", None)])
    error(recs[0], 409, "NAME_EXISTS")
    step("rename onto a taken name", "409 NAME_EXISTS -> FileNameExistError")

    ret, recs = run_sdk(fr.list_files, path=folder)
    expect_requests(recs, [("GET", f"{T}/files", f"folder=/{folder}&{list_q}")])
    body = success(recs[0])
    files = body.get("files")
    check(isinstance(files, list) and len(files) == 2 and body.get("total") == 2,
          f"list files: expected 2 files, got {len(files or [])} total={body.get('total')!r}")
    by_uuid = {f.get("uuid"): f for f in files}
    check(set(by_uuid) == {a_uuid, b_uuid}, f"list files: uuids {sorted(by_uuid)} != {sorted([a_uuid, b_uuid])}")
    check_file(by_uuid[a_uuid], "list files", renamed, fuuid, folder_path, uuid=a_uuid)
    check_file(by_uuid[b_uuid], "list files", named, fuuid, folder_path, uuid=b_uuid)
    stamps = [f["modified_at"] for f in files]
    check(stamps == sorted(stamps), f"list files: order=updated_at,asc not honoured: {stamps}")
    check(ret == body, "list_files did not return the answer body")
    step("list files", f"{renamed}, {named}")

    ret, recs = run_sdk(fr.inspect_file, a_uuid)
    expect_requests(recs, [("GET", f"{T}/files/{a_uuid}", None)])
    body = success(recs[0])
    check_file(body.get("file"), "inspect file", renamed, fuuid, folder_path, uuid=a_uuid)
    check(body["file"] == by_uuid[a_uuid], "inspect file: answer differs from the listed file")
    step("inspect file", a_uuid)

    out = os.path.join(tmp, "downloaded.bin")
    ret, recs = run_sdk(fr.download_file, a_uuid, out)
    expect_requests(recs, [("GET", f"{T}/get/{a_uuid}/download", None)])
    rec = recs[0]
    check(rec["status"] == 200, f"download: status {rec['status']}, expected 200")
    check(rec["content"] == CONTENT, f"download: got {len(rec['content'])} bytes, not the uploaded ones")
    with open(out, "rb") as fh:
        check(fh.read() == CONTENT, "download: file written by the SDK differs from the upload")
    etag = rec["resp_headers"].get("ETag")
    check(etag == f'"{SHA256}"', f"download: ETag {etag!r}, expected \"<sha256>\"")
    disp = rec["resp_headers"].get("Content-Disposition", "")
    check(f"filename*=UTF-8''{renamed}" in disp, f"download: Content-Disposition {disp!r}")
    step("download file", f"{len(CONTENT)} bytes, sha256 matches")

    exc, recs = run_sdk(fr.upload_url, "http://127.0.0.1:9/never-fetched.txt", upload_filerobot_folder=folder,
                        raises=filerobot.UrlContentError)
    expect_requests(recs, [("POST", f"{T}/upload", f"folder=/{folder}")])
    check(json.loads(recs[0]["body"]) == {"files_urls": [{"url": "http://127.0.0.1:9/never-fetched.txt"}]},
          f"upload_url sent {recs[0]['body']!r}")
    error(recs[0], 400, "UNSUPPORTED")
    step("upload by URL refused", "400 UNSUPPORTED -> UrlContentError")

    ret, recs = run_sdk(fr.upload_base_64, local_file, upload_filerobot_folder=folder, name_file=b64_name)
    expect_requests(recs, [("POST", f"{T}/upload", f"folder=/{folder}")])
    sent = recs[0]["body"] or b""
    for part in (b'name="postactions"; filename="postactions"\r\n\r\ndecode_base64\r\n',
                 b'name="data"; filename="data"\r\n\r\n' + base64.b64encode(CONTENT) + b"\r\n",
                 b'name="name"; filename="name"\r\n\r\n' + b64_name.encode() + b"\r\n"):
        check(part in sent, f"upload_base_64: multipart part {part[:40]!r}... not sent as expected")
    body = success(recs[0])
    check(isinstance(body.get("files"), list) and len(body["files"]) == 1, "base64 upload: expected one file")
    check_file(body.get("file"), "base64 upload", b64_name, fuuid, folder_path)
    c_uuid = body["file"]["uuid"]
    check(c_uuid not in (a_uuid, b_uuid), "base64 upload: reused another file's uuid")
    check(ret == 200, f"upload_base_64 returned {ret!r}, expected 200")
    step("upload base64 (postactions=decode_base64)", f"{b64_name} uuid={c_uuid}, sha256 matches")

    ret, recs = run_sdk(fr.delete_folder, fuuid)  # SDK raises only on 404, returns the error body
    expect_requests(recs, [("DELETE", f"{T}/folders/{fuuid}", None)])
    error(recs[0], 409, "FOLDER_NOT_EMPTY")
    step("delete non-empty folder refused", "409 FOLDER_NOT_EMPTY")

    for f_uuid, f_name in ((a_uuid, renamed), (b_uuid, named), (c_uuid, b64_name)):
        ret, recs = run_sdk(fr.delete_file, f_uuid)
        expect_requests(recs, [("DELETE", f"{T}/files/{f_uuid}", None)])
        body = success(recs[0])
        check(isinstance(body.get("msg"), str), f"delete file: no msg in {body!r}")
        check(ret == body, "delete_file did not return the answer body")
        step("delete file", f"{f_name} {f_uuid}")

    exc, recs = run_sdk(fr.inspect_file, a_uuid, raises=filerobot.FileNotFoundError)
    expect_requests(recs, [("GET", f"{T}/files/{a_uuid}", None)])
    error(recs[0], 404, "NOT_FOUND")
    step("deleted file is gone", "404 NOT_FOUND -> filerobot.FileNotFoundError")

    ret, recs = run_sdk(fr.list_files, path=folder)
    expect_requests(recs, [("GET", f"{T}/files", f"folder=/{folder}&{list_q}")])
    body = success(recs[0])
    check(body.get("files") == [] and body.get("total") == 0,
          f"list files after delete: files={body.get('files')!r} total={body.get('total')!r}")
    step("folder has no files left")

    ret, recs = run_sdk(fr.rename_folder, fuuid, folder2)
    expect_requests(recs, [("PATCH", f"{T}/folders/{fuuid}", None)])
    check(json.loads(recs[0]["body"]) == {"name": folder2}, f"rename_folder sent {recs[0]['body']!r}")
    body = success(recs[0])
    check_folder(body.get("folder"), "rename folder", name=folder2, path=f"/{folder2}", uuid=fuuid,
                 parent_uuid=root_uuid)
    step("rename folder", f"{folder} -> {folder2}")

    ret, recs = run_sdk(fr.delete_folder, fuuid)
    expect_requests(recs, [("DELETE", f"{T}/folders/{fuuid}", None)])
    body = success(recs[0])
    check(isinstance(body.get("msg"), str), f"delete folder: no msg in {body!r}")
    check(body.get("deleted") == {"folders": 1, "files": 0},
          f"delete folder: deleted {body.get('deleted')!r}, expected {{'folders': 1, 'files': 0}}")
    step("delete folder", fuuid)

    exc, recs = run_sdk(fr.inspect_folder, fuuid, raises=filerobot.FolderNotFoundError)
    expect_requests(recs, [("GET", f"{T}/folders/{fuuid}", None)])
    error(recs[0], 404, "NOT_FOUND")
    ret, recs = run_sdk(fr.list_folder)
    expect_requests(recs, [("GET", f"{T}/folders", f"folder=/&{list_q}")])
    body = success(recs[0])
    check(all(f.get("uuid") != fuuid for f in body.get("folders", [])), "deleted folder still listed in the root")
    step("deleted folder is gone", "404 NOT_FOUND -> FolderNotFoundError; not in root listing")

    return 0


def entry():
    try:
        rc = main()
    except Failure as exc:
        print(f"FAIL step {STEP_NO + 1} (SDK call {LAST_CALL}): {exc}", file=sys.stderr)
        tail = RECORDS[-3:]
        if tail:
            print("  last HTTP exchanges:", file=sys.stderr)
            for rec in tail:
                print("    " + describe(rec), file=sys.stderr)
        rc = 1
    except Exception as exc:  # noqa: BLE001  (a bug in this script: still fail clearly)
        print(f"FAIL step {STEP_NO + 1} (SDK call {LAST_CALL}): unexpected {type(exc).__name__}: {exc}",
              file=sys.stderr)
        rc = 1
    write_trace()
    if rc == 0:
        print(f"filerobot SDK flow: {STEP_NO} steps passed, {len(RECORDS)} HTTP requests", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(entry())
