#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a used one: installs what the tests need when it is
# missing (a Python venv with the published client SDKs from PyPI), checks formatting and lints,
# then builds once and runs every test in one `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real client SDKs the acceptance tests drive (Filerobot's and Nomad's, from PyPI).
export SHAREBOX_SDK_VENV="${SHAREBOX_SDK_VENV:-$PWD/target/sdk-venv}"
bash tests/sdk/setup_venv.sh "$SHAREBOX_SDK_VENV"

# Headless Chromium and its WebDriver for the browser test (tests/browser.rs), from Debian.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# nginx for the proxy and deploy tests (tests/proxy.rs, tests/deploy.rs), openssl for the deploy
# test's throwaway certificate, and util-linux's `script` (a terminal for tests/logs.rs), from
# Debian: the tests fail without them.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nginx >/dev/null
fi
if ! command -v openssl >/dev/null || ! command -v script >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq openssl bsdutils >/dev/null
fi

# curl (the zip resume test drives `curl -C -`), unzip (zips are read back with `unzip -t`) and
# zbar's `zbarimg` (the share page's QR code is decoded by a real reader).
if ! command -v curl >/dev/null || ! command -v unzip >/dev/null || ! command -v zbarimg >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq curl unzip zbar-tools >/dev/null
fi

cargo fmt --all -- --check
# Lints (Cargo.toml's [lints] and clippy's defaults) on src/ and the tests, warnings as errors.
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked "$@"
# The public-page, upload and library suites once more, with every blob in a bucket of a real S3
# server (moto, from the venv; tests/support/moto.rs): the same tests, the `s3` blob store,
# downloads proxied (tests/s3.rs covers the redirects).
if [ $# -eq 0 ]; then
    SHAREBOX_TEST_BLOB_STORE=s3 cargo test --locked \
        --test public --test public_page --test zip_range --test head --test assets \
        --test nomad_upload --test tus --test filerobot_sdk --test nomad_sdk \
        --test memory --test public_memory --test thumbs --test owner --test owner_pages \
        --test share_detail --test visitors --test shares --test big_share --test restart \
        --test nomad_assets --test nomad_shares --test tus_browser --test browser_owner
fi
