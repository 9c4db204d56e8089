#!/usr/bin/env bash
# Creates (or reuses) a Python >= 3.12 virtualenv with the published client SDKs that the
# acceptance tests drive against sharebox:
#   filerobot        (Filerobot's Python SDK, `from filerobot import Filerobot`)
#   nomad-media-pip  (Nomad's Python SDK; needs Python >= 3.12)
#   tuspy            (the Python tus client: `from tusclient import client`)
# and the tools other tests run: aiosmtpd (an SMTP sink), openapi-spec-validator, moto_server
# (an S3 server).
#
# usage: tests/sdk/setup_venv.sh <venv-dir>
#
# Idempotent: a marker file in the venv records what was installed; a second run with the same
# pins returns at once. Only PyPI is used (no other network access is needed or attempted).
set -euo pipefail

FILEROBOT_VERSION=0.0.25
NOMAD_VERSION=0.1.9
TUSPY_VERSION=1.1.0
# filerobot 0.0.25 imports `requests` and `urllib3` but declares no dependency at all, so they are
# pinned here explicitly (the versions the SDK notes were written against).
REQUESTS_VERSION=2.34.2
URLLIB3_VERSION=2.8.0

PINS=(
  "filerobot==${FILEROBOT_VERSION}"
  "nomad-media-pip==${NOMAD_VERSION}"
  # The resumable-upload tests (tests/tus.rs) drive the server with a real tus client.
  "tuspy==${TUSPY_VERSION}"
  "requests==${REQUESTS_VERSION}"
  "urllib3==${URLLIB3_VERSION}"
  # A real SMTP server for the mail tests (tests/sdk/smtp_sink.py).
  "aiosmtpd==1.4.6"
  # Validates GET /openapi.json against the OpenAPI 3.x schema (tests/openapi.rs).
  "openapi-spec-validator==0.9.0"
  # A real S3 server on loopback for the blob-store tests (tests/support/moto.rs); brings boto3.
  "moto[server]==5.2.6"
)

die() { echo "setup_venv.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 <venv-dir>"
VENV=$1
MARKER="$VENV/.sharebox-sdk-installed"
WANT="${PINS[*]}"

# Fast path: already set up with exactly these pins.
if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

# Is "$1" a working Python >= 3.12? (pyenv shims for uninstalled versions fail here, as wanted)
is_py312plus() {
  [ -x "$1" ] || command -v "$1" >/dev/null 2>&1 || return 1
  "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local root="" cand v
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null || true)
  fi
  [ -n "$root" ] || root=${PYENV_ROOT:-$HOME/.pyenv}
  # 1. the newest pyenv-installed CPython 3.12.x (plain versions only, not -dev builds).
  if [ -d "$root/versions" ]; then
    for v in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.12\.[0-9]+$' | sort -t. -k3,3nr); do
      cand="$root/versions/$v/bin/python3"
      if is_py312plus "$cand"; then echo "$cand"; return 0; fi
    done
  fi
  # 2. any python3 >= 3.12 on PATH (real binaries; bare version shims that fail are skipped).
  for cand in python3 python3.14 python3.13 python3.12 python; do
    if is_py312plus "$cand"; then command -v "$cand"; return 0; fi
  done
  # 3. any other pyenv-installed CPython >= 3.12 (3.13.x, ...).
  if [ -d "$root/versions" ]; then
    for v in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -t. -k2,2nr -k3,3nr); do
      cand="$root/versions/$v/bin/python3"
      if is_py312plus "$cand"; then echo "$cand"; return 0; fi
    done
  fi
  return 1
}

PY=""
if [ -x "$VENV/bin/python" ] && is_py312plus "$VENV/bin/python"; then
  PY="$VENV/bin/python"   # reuse the existing venv
else
  if ! BASE_PY=$(find_python); then
    # Last resort: pyenv can build 3.12 offline only from a tarball already in its cache.
    root=$( (command -v pyenv >/dev/null 2>&1 && pyenv root) || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    tarball=$(ls -1 "$root"/cache/Python-3.12.*.tar.* 2>/dev/null | sort -V | tail -n1 || true)
    if command -v pyenv >/dev/null 2>&1 && [ -n "$tarball" ]; then
      ver=$(basename "$tarball" | sed -E 's/^Python-(3\.12\.[0-9]+)\.tar\..*$/\1/')
      echo "setup_venv.sh: no Python >= 3.12 found; building $ver from pyenv's cache (offline)" >&2
      pyenv install -s "$ver" >&2 || die "pyenv install $ver failed"
      BASE_PY=$(find_python) || die "pyenv installed $ver but no usable python3 >= 3.12 was found"
    else
      die "no Python >= 3.12 found (looked in \$(pyenv root)/versions/3.12.* and on PATH), and pyenv \
cannot install one offline (no Python-3.12.* tarball in $root/cache; python.org is not reachable). \
Install CPython 3.12 (e.g. Debian's python3.12 package, or a pyenv build) and re-run."
    fi
  fi
  if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ]; then
    die "$VENV exists, is not empty and is not a virtualenv; refusing to touch it"
  fi
  if [ -f "$VENV/pyvenv.cfg" ]; then
    echo "setup_venv.sh: $VENV has an unusable or too old python; recreating it" >&2
    rm -rf -- "$VENV"
  fi
  "$BASE_PY" -m venv "$VENV" || die "could not create venv $VENV with $BASE_PY"
  PY="$VENV/bin/python"
fi

rm -f "$MARKER"
"$PY" -m pip install --disable-pip-version-check --no-input -q "${PINS[@]}" \
  || die "pip install ${PINS[*]} failed (is PyPI reachable?)"
FILEROBOT_VERSION=$FILEROBOT_VERSION NOMAD_VERSION=$NOMAD_VERSION TUSPY_VERSION=$TUSPY_VERSION "$PY" - <<'PY' || die "installed packages do not import"
import importlib.metadata as md
from filerobot import Filerobot  # noqa: F401
import nomad_media_pip  # noqa: F401
import requests, urllib3  # noqa: F401
import openapi_spec_validator  # noqa: F401
from tusclient import client  # noqa: F401
import moto, boto3  # noqa: F401
import os
assert md.version("filerobot") == os.environ["FILEROBOT_VERSION"], md.version("filerobot")
assert md.version("nomad_media_pip") == os.environ["NOMAD_VERSION"], md.version("nomad_media_pip")
assert md.version("tuspy") == os.environ["TUSPY_VERSION"], md.version("tuspy")
PY
printf '%s' "$WANT" > "$MARKER"
echo "setup_venv.sh: ready: $VENV ($("$PY" --version 2>&1); ${PINS[*]})" >&2
