-- Sharebox schema. Forward-only: each "-- version: N" section runs once, in order, inside one
-- transaction, and PRAGMA user_version records the last one applied. Never edit a released
-- section; add a new one below.

-- version: 1
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    token       TEXT NOT NULL UNIQUE,
    secret      TEXT NOT NULL,          -- per-org salt for activity ip hashes
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,  -- login names no org, so emails are global
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the key; the key itself is shown once
    created_at  INTEGER NOT NULL
);

-- One row per API login; lives until logout or expires_at (30 days after login).
CREATE TABLE api_sessions (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash  TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

-- The current access token of a session; a refresh replaces it.
CREATE TABLE access_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES api_sessions(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX access_tokens_session ON access_tokens(session_id);

-- The one throttle: failures per key ("email:..", "ip:..", "share:..|ip:..").
CREATE TABLE auth_failures (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX auth_failures_key_at ON auth_failures(key, at);

CREATE TABLE folders (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    parent_id   INTEGER REFERENCES folders(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- Names are unique per folder (case-sensitive); the root (parent NULL) is one per org.
CREATE UNIQUE INDEX folders_parent_name ON folders(parent_id, name);
CREATE UNIQUE INDEX folders_root ON folders(org_id) WHERE parent_id IS NULL;

CREATE TABLE blobs (
    id      TEXT PRIMARY KEY,           -- server-made name of the file under blobs/
    size    INTEGER NOT NULL,
    sha256  TEXT NOT NULL,
    crc32   INTEGER NOT NULL
);

CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    folder_id   INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    visibility  TEXT NOT NULL DEFAULT 'ORG',
    blob_id     TEXT NOT NULL REFERENCES blobs(id),
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX files_folder_name ON files(folder_id, name);
CREATE INDEX files_blob ON files(blob_id);
