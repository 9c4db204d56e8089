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

-- version: 2
CREATE TABLE shares (
    -- AUTOINCREMENT: an id is never reused, so in-memory counters cannot outlive their share.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid            TEXT NOT NULL UNIQUE,
    puid            TEXT NOT NULL UNIQUE,   -- public id in links: random, >= 120 bits
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    owner_user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    starts_at       INTEGER,
    expires_at      INTEGER,
    starts_tz       TEXT NOT NULL DEFAULT 'UTC',
    expires_tz      TEXT NOT NULL DEFAULT 'UTC',
    show_starts_at  INTEGER NOT NULL DEFAULT 1,
    show_expires_at INTEGER NOT NULL DEFAULT 1,
    password_hash   TEXT,                   -- argon2id; never returned
    password_gen    INTEGER NOT NULL DEFAULT 0,  -- moves with every password change and revoke
    can_download    INTEGER NOT NULL DEFAULT 1,
    max_downloads   INTEGER,
    users_only      INTEGER NOT NULL DEFAULT 0,
    message         TEXT,
    revoked         INTEGER NOT NULL DEFAULT 0,
    views           INTEGER NOT NULL DEFAULT 0,
    downloads       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX shares_org_created ON shares(org_id, created_at DESC, id DESC);

-- A share's items; a deleted file or folder leaves every share with its item.
CREATE TABLE share_items (
    id          INTEGER PRIMARY KEY,
    share_id    INTEGER NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    file_id     INTEGER REFERENCES files(id) ON DELETE CASCADE,
    folder_id   INTEGER REFERENCES folders(id) ON DELETE CASCADE,
    recursive   INTEGER NOT NULL DEFAULT 0,
    visibility  TEXT NOT NULL DEFAULT 'PUB,ORG',
    CHECK ((file_id IS NULL) != (folder_id IS NULL))
);
CREATE INDEX share_items_share ON share_items(share_id, position);
CREATE INDEX share_items_file ON share_items(file_id);
CREATE INDEX share_items_folder ON share_items(folder_id);

CREATE TABLE share_users (
    share_id  INTEGER NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    PRIMARY KEY (share_id, user_id)
);

CREATE TABLE share_recipients (
    share_id  INTEGER NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    email     TEXT NOT NULL COLLATE NOCASE,
    name      TEXT,
    position  INTEGER NOT NULL,
    PRIMARY KEY (share_id, email)
);

CREATE TABLE share_activity (
    id          INTEGER PRIMARY KEY,
    share_id    INTEGER NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,          -- view, download, unlock_failed
    file_uuid   TEXT,
    ip_hash     TEXT NOT NULL,
    user_agent  TEXT NOT NULL
);
CREATE INDEX share_activity_share ON share_activity(share_id, at DESC, id DESC);

-- Mail owed, written in the same transaction as the share change that causes it. The worker is
-- the only sender; a share's rows go with it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    share_id        INTEGER NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    name            TEXT,
    kind            TEXT NOT NULL,      -- share (created or added), notification
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_share_email ON outbox(share_id, email COLLATE NOCASE, id DESC);

-- version: 3
-- Chunked uploads (Nomad's /api/asset/upload/...). The parts of an upload are written at their
-- offsets into one file under tmp/ (`tmp_name`, server-made). A completed upload stays until it
-- expires, so that repeating "complete" answers the same asset; an open one is cancelled then.
CREATE TABLE uploads (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    secret_hash     TEXT NOT NULL,          -- hex SHA-256 of the part URLs' token
    tmp_name        TEXT NOT NULL UNIQUE,   -- the file under tmp/ the parts are written into
    folder_uuid     TEXT,                   -- the folder a new file goes into
    name            TEXT NOT NULL,          -- the new file's name, before the free-name rule
    replace_uuid    TEXT,                   -- the file whose content is replaced, if any
    asset_uuid      TEXT NOT NULL,          -- the file's uuid once complete (new, or replace_uuid)
    content_length  INTEGER NOT NULL,
    chunk_size      INTEGER NOT NULL,
    completed       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX uploads_org ON uploads(org_id);
CREATE INDEX uploads_expires ON uploads(expires_at);

CREATE TABLE upload_parts (
    id           INTEGER PRIMARY KEY,
    uuid         TEXT NOT NULL UNIQUE,
    upload_id    INTEGER NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    part_number  INTEGER NOT NULL,          -- from 1
    start_pos    INTEGER NOT NULL,
    end_pos      INTEGER NOT NULL,          -- inclusive
    sha256       TEXT,                      -- of the bytes last written whole; null until then
    confirmed    INTEGER NOT NULL DEFAULT 0, -- its etag was checked by "part complete"
    UNIQUE (upload_id, part_number)
);

-- version: 4
-- Owner web UI sessions: the cookie holds a random id, stored here only as its SHA-256.
CREATE TABLE web_sessions (
    id          INTEGER PRIMARY KEY,
    id_hash     TEXT NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,          -- bound to this session; every form carries it
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- version: 5
-- A folder item's visibility is one of three values; the table is rebuilt to say so. Items
-- stored with any other value matched no file, so they go: mapping them to a valid value would
-- widen what the share shows. A file item's visibility means nothing and becomes the default.
DELETE FROM share_items
WHERE folder_id IS NOT NULL AND visibility NOT IN ('PUB', 'ORG', 'PUB,ORG');
UPDATE share_items SET visibility = 'PUB,ORG' WHERE file_id IS NOT NULL;
CREATE TABLE share_items_v5 (
    id          INTEGER PRIMARY KEY,
    share_id    INTEGER NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    file_id     INTEGER REFERENCES files(id) ON DELETE CASCADE,
    folder_id   INTEGER REFERENCES folders(id) ON DELETE CASCADE,
    recursive   INTEGER NOT NULL DEFAULT 0,
    visibility  TEXT NOT NULL DEFAULT 'PUB,ORG' CHECK (visibility IN ('PUB', 'ORG', 'PUB,ORG')),
    CHECK ((file_id IS NULL) != (folder_id IS NULL))
);
INSERT INTO share_items_v5 (id, share_id, position, file_id, folder_id, recursive, visibility)
SELECT id, share_id, position, file_id, folder_id, recursive, visibility FROM share_items;
DROP TABLE share_items;
ALTER TABLE share_items_v5 RENAME TO share_items;
CREATE INDEX share_items_share ON share_items(share_id, position);
CREATE INDEX share_items_file ON share_items(file_id);
CREATE INDEX share_items_folder ON share_items(folder_id);

-- version: 6
-- Accounts: a user can be disabled (no sign-in; sessions, tokens and the keys they made end at
-- once); an API key records who made it (null: the CLI) and a short prefix to tell it by.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN created_by INTEGER REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
CREATE INDEX api_keys_org ON api_keys(org_id);
CREATE INDEX api_keys_created_by ON api_keys(created_by);

-- version: 7
-- When a key last authenticated (null: never since this was kept). Recorded at most once a
-- minute per key, so a busy key does not cost a write on every request.
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
-- Keys unused for long are the ones to revoke: found by org and last use without a scan.
CREATE INDEX api_keys_last_used ON api_keys(org_id, last_used_at);
-- Set-password links (a new user's first password, an admin's reset): single use, 24 h. The
-- token is made by the mail worker when it sends the mail and stored only as its SHA-256; a
-- retry makes a new one, so an undelivered token never works.
CREATE TABLE password_links (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  TEXT UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    used_at     INTEGER
);
CREATE INDEX password_links_user ON password_links(user_id);
-- The outbox carries these mails too: a row is about a share or about a link, never both.
CREATE TABLE outbox_v7 (
    id              INTEGER PRIMARY KEY,
    share_id        INTEGER REFERENCES shares(id) ON DELETE CASCADE,
    link_id         INTEGER REFERENCES password_links(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    name            TEXT,
    kind            TEXT NOT NULL,      -- share (created or added), notification, password
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    CHECK ((share_id IS NULL) != (link_id IS NULL))
);
INSERT INTO outbox_v7 (id, share_id, email, name, kind, status, attempts, next_attempt_at,
                       last_error, created_at, sent_at)
SELECT id, share_id, email, name, kind, status, attempts, next_attempt_at, last_error,
       created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v7 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_share_email ON outbox(share_id, email COLLATE NOCASE, id DESC);
CREATE INDEX outbox_link ON outbox(link_id);

-- version: 8
-- Per-folder aggregates of what sits directly inside, kept by triggers in the same transaction
-- as the change: pages show "1-200 of 50,000" and folder sizes without counting rows.
-- `pub_count`/`org_count` split `file_count` by the files' visibility (a share's folder item
-- shows PUB, ORG or both).
ALTER TABLE folders ADD COLUMN file_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN pub_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN org_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN byte_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN folder_count INTEGER NOT NULL DEFAULT 0;
UPDATE folders SET
    file_count = (SELECT COUNT(*) FROM files WHERE folder_id = folders.id),
    pub_count = (SELECT COUNT(*) FROM files WHERE folder_id = folders.id AND visibility = 'PUB'),
    org_count = (SELECT COUNT(*) FROM files WHERE folder_id = folders.id AND visibility = 'ORG'),
    byte_count = (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                  WHERE x.folder_id = folders.id),
    folder_count = (SELECT COUNT(*) FROM folders c WHERE c.parent_id = folders.id);
-- A file's blob row outlives it (blobs go after their last file), so its size is there to read.
CREATE TRIGGER files_agg_insert AFTER INSERT ON files BEGIN
    UPDATE folders SET file_count = file_count + 1,
        pub_count = pub_count + (NEW.visibility = 'PUB'),
        org_count = org_count + (NEW.visibility = 'ORG'),
        byte_count = byte_count + COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0)
    WHERE id = NEW.folder_id;
END;
CREATE TRIGGER files_agg_delete AFTER DELETE ON files BEGIN
    UPDATE folders SET file_count = file_count - 1,
        pub_count = pub_count - (OLD.visibility = 'PUB'),
        org_count = org_count - (OLD.visibility = 'ORG'),
        byte_count = byte_count - COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0)
    WHERE id = OLD.folder_id;
END;
CREATE TRIGGER files_agg_update AFTER UPDATE OF folder_id, visibility, blob_id ON files BEGIN
    UPDATE folders SET file_count = file_count - 1,
        pub_count = pub_count - (OLD.visibility = 'PUB'),
        org_count = org_count - (OLD.visibility = 'ORG'),
        byte_count = byte_count - COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0)
    WHERE id = OLD.folder_id;
    UPDATE folders SET file_count = file_count + 1,
        pub_count = pub_count + (NEW.visibility = 'PUB'),
        org_count = org_count + (NEW.visibility = 'ORG'),
        byte_count = byte_count + COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0)
    WHERE id = NEW.folder_id;
END;
CREATE TRIGGER folders_agg_insert AFTER INSERT ON folders WHEN NEW.parent_id IS NOT NULL BEGIN
    UPDATE folders SET folder_count = folder_count + 1 WHERE id = NEW.parent_id;
END;
CREATE TRIGGER folders_agg_delete AFTER DELETE ON folders WHEN OLD.parent_id IS NOT NULL BEGIN
    UPDATE folders SET folder_count = folder_count - 1 WHERE id = OLD.parent_id;
END;
CREATE TRIGGER folders_agg_move AFTER UPDATE OF parent_id ON folders
WHEN OLD.parent_id IS NOT NEW.parent_id BEGIN
    UPDATE folders SET folder_count = folder_count - 1 WHERE id = OLD.parent_id;
    UPDATE folders SET folder_count = folder_count + 1 WHERE id = NEW.parent_id;
END;
-- A folder item showing only PUB or only ORG files pages through them by name without
-- stepping over the hidden ones.
CREATE INDEX files_folder_visibility_name ON files(folder_id, visibility, name);
-- A counter that moves with every change to what a share's zip holds (items, a file's name,
-- place, visibility or contents, a folder's name or place): a zip's length and layout, worked
-- out once by a pass over the share, stay good while it stands still.
CREATE TABLE content_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO content_generation VALUES (1, 0);
CREATE TRIGGER content_gen_file_insert AFTER INSERT ON files BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_file_delete AFTER DELETE ON files BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_file_update
AFTER UPDATE OF name, folder_id, visibility, blob_id, modified_at ON files BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_folder_insert AFTER INSERT ON folders BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_folder_delete AFTER DELETE ON folders BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_folder_update AFTER UPDATE OF name, parent_id ON folders BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_item_insert AFTER INSERT ON share_items BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_item_delete AFTER DELETE ON share_items BEGIN
    UPDATE content_generation SET n = n + 1;
END;
CREATE TRIGGER content_gen_item_update AFTER UPDATE ON share_items BEGIN
    UPDATE content_generation SET n = n + 1;
END;

-- version: 9
-- tus uploads in progress (/tus/, API.md "Resumable uploads"). Their bytes live in
-- uploads/<uuid>.part, a server-made name; `received` counts only bytes already fsynced there.
-- `kind` keeps routes apart ('library' for /tus/; a file request's uploads will have their own).
CREATE TABLE tus_uploads (
    id           INTEGER PRIMARY KEY,
    uuid         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    length       INTEGER NOT NULL,          -- Upload-Length
    received     INTEGER NOT NULL DEFAULT 0,
    filename     TEXT NOT NULL,
    filetype     TEXT,
    folder_path  TEXT,                      -- where the file goes: a library path...
    folder_uuid  TEXT,                      -- ...or a folder
    metadata     TEXT NOT NULL,             -- the Upload-Metadata header, echoed by HEAD
    file_uuid    TEXT,                      -- the library file, once complete
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL           -- 24 h after the last PATCH
);
CREATE INDEX tus_uploads_org ON tus_uploads(org_id);
CREATE INDEX tus_uploads_expires ON tus_uploads(expires_at);

-- version: 10
-- What a share holds in all, without a walk: `pub_bytes`/`org_bytes` split `byte_count` by the
-- files' visibility, and the `tree_*` columns count the files (and their bytes) of each
-- visibility in the folder and everything below it. Triggers keep them in the same transaction
-- as the change; a change climbs to the root through `folders_tree_up`, which needs
-- `PRAGMA recursive_triggers` (set on every connection, src/db/mod.rs) and bounds a folder's
-- depth (`MAX_DEPTH` in src/domain/types.rs) below SQLite's trigger depth of 1000.
ALTER TABLE folders ADD COLUMN pub_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN org_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN tree_pub_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN tree_org_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN tree_pub_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN tree_org_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE folders SET
    pub_bytes = (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.folder_id = folders.id AND x.visibility = 'PUB'),
    org_bytes = (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.folder_id = folders.id AND x.visibility = 'ORG');
CREATE TEMP TABLE tree_sums AS
WITH RECURSIVE up(folder, ancestor) AS (
    SELECT id, id FROM folders
    UNION ALL
    SELECT up.folder, f.parent_id FROM up JOIN folders f ON f.id = up.ancestor
    WHERE f.parent_id IS NOT NULL
)
SELECT up.ancestor AS id, SUM(d.pub_count) AS pc, SUM(d.org_count) AS oc,
       SUM(d.pub_bytes) AS pb, SUM(d.org_bytes) AS ob
FROM up JOIN folders d ON d.id = up.folder GROUP BY up.ancestor;
UPDATE folders SET tree_pub_count = s.pc, tree_org_count = s.oc, tree_pub_bytes = s.pb,
    tree_org_bytes = s.ob
FROM temp.tree_sums s WHERE s.id = folders.id;
DROP TABLE temp.tree_sums;
CREATE TRIGGER files_tree_insert AFTER INSERT ON files BEGIN
    UPDATE folders SET
        pub_bytes = pub_bytes + (NEW.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0),
        org_bytes = org_bytes + (NEW.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0),
        tree_pub_count = tree_pub_count + (NEW.visibility = 'PUB'),
        tree_org_count = tree_org_count + (NEW.visibility = 'ORG'),
        tree_pub_bytes = tree_pub_bytes + (NEW.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0),
        tree_org_bytes = tree_org_bytes + (NEW.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0)
    WHERE id = NEW.folder_id;
END;
CREATE TRIGGER files_tree_delete AFTER DELETE ON files BEGIN
    UPDATE folders SET
        pub_bytes = pub_bytes - (OLD.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0),
        org_bytes = org_bytes - (OLD.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0),
        tree_pub_count = tree_pub_count - (OLD.visibility = 'PUB'),
        tree_org_count = tree_org_count - (OLD.visibility = 'ORG'),
        tree_pub_bytes = tree_pub_bytes - (OLD.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0),
        tree_org_bytes = tree_org_bytes - (OLD.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0)
    WHERE id = OLD.folder_id;
END;
CREATE TRIGGER files_tree_update AFTER UPDATE OF folder_id, visibility, blob_id ON files BEGIN
    UPDATE folders SET
        pub_bytes = pub_bytes - (OLD.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0),
        org_bytes = org_bytes - (OLD.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0),
        tree_pub_count = tree_pub_count - (OLD.visibility = 'PUB'),
        tree_org_count = tree_org_count - (OLD.visibility = 'ORG'),
        tree_pub_bytes = tree_pub_bytes - (OLD.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0),
        tree_org_bytes = tree_org_bytes - (OLD.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = OLD.blob_id), 0)
    WHERE id = OLD.folder_id;
    UPDATE folders SET
        pub_bytes = pub_bytes + (NEW.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0),
        org_bytes = org_bytes + (NEW.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0),
        tree_pub_count = tree_pub_count + (NEW.visibility = 'PUB'),
        tree_org_count = tree_org_count + (NEW.visibility = 'ORG'),
        tree_pub_bytes = tree_pub_bytes + (NEW.visibility = 'PUB')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0),
        tree_org_bytes = tree_org_bytes + (NEW.visibility = 'ORG')
            * COALESCE((SELECT size FROM blobs WHERE id = NEW.blob_id), 0)
    WHERE id = NEW.folder_id;
END;
CREATE TRIGGER folders_tree_up
AFTER UPDATE OF tree_pub_count, tree_org_count, tree_pub_bytes, tree_org_bytes ON folders
WHEN NEW.parent_id IS NOT NULL BEGIN
    UPDATE folders SET
        tree_pub_count = tree_pub_count + NEW.tree_pub_count - OLD.tree_pub_count,
        tree_org_count = tree_org_count + NEW.tree_org_count - OLD.tree_org_count,
        tree_pub_bytes = tree_pub_bytes + NEW.tree_pub_bytes - OLD.tree_pub_bytes,
        tree_org_bytes = tree_org_bytes + NEW.tree_org_bytes - OLD.tree_org_bytes
    WHERE id = NEW.parent_id;
END;
CREATE TRIGGER folders_tree_move AFTER UPDATE OF parent_id ON folders
WHEN OLD.parent_id IS NOT NEW.parent_id BEGIN
    UPDATE folders SET
        tree_pub_count = tree_pub_count - NEW.tree_pub_count,
        tree_org_count = tree_org_count - NEW.tree_org_count,
        tree_pub_bytes = tree_pub_bytes - NEW.tree_pub_bytes,
        tree_org_bytes = tree_org_bytes - NEW.tree_org_bytes
    WHERE id = OLD.parent_id;
    UPDATE folders SET
        tree_pub_count = tree_pub_count + NEW.tree_pub_count,
        tree_org_count = tree_org_count + NEW.tree_org_count,
        tree_pub_bytes = tree_pub_bytes + NEW.tree_pub_bytes,
        tree_org_bytes = tree_org_bytes + NEW.tree_org_bytes
    WHERE id = NEW.parent_id;
END;
-- A deleted folder's files and folders go by cascade after its row: their own triggers find
-- it gone, so its totals leave its parent here, once.
CREATE TRIGGER folders_tree_delete AFTER DELETE ON folders WHEN OLD.parent_id IS NOT NULL BEGIN
    UPDATE folders SET
        tree_pub_count = tree_pub_count - OLD.tree_pub_count,
        tree_org_count = tree_org_count - OLD.tree_org_count,
        tree_pub_bytes = tree_pub_bytes - OLD.tree_pub_bytes,
        tree_org_bytes = tree_org_bytes - OLD.tree_org_bytes
    WHERE id = OLD.parent_id;
END;

-- version: 11
-- File requests (API.md "File requests"): links through which people outside the org upload
-- into one of its folders. A request's window works as a share's; `password_gen` moves with a
-- new password or a revoke, which ends every uploader's cookie.
CREATE TABLE requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid            TEXT NOT NULL UNIQUE,
    puid            TEXT NOT NULL UNIQUE,   -- public id in links: random, >= 120 bits
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    owner_user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    message         TEXT NOT NULL DEFAULT '',
    folder_id       INTEGER REFERENCES folders(id) ON DELETE SET NULL,
    starts_at       INTEGER,
    expires_at      INTEGER,
    starts_tz       TEXT NOT NULL DEFAULT 'UTC',
    expires_tz      TEXT NOT NULL DEFAULT 'UTC',
    password_hash   TEXT,
    password_gen    INTEGER NOT NULL DEFAULT 0,
    max_files       INTEGER,
    max_file_bytes  INTEGER,
    max_total_bytes INTEGER,
    extensions      TEXT NOT NULL DEFAULT '',   -- lower-case, comma-separated; '' = any
    notify          INTEGER NOT NULL DEFAULT 1,
    notify_emails   TEXT NOT NULL DEFAULT '',   -- comma-separated; '' = the owner
    revoked         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX requests_org_created ON requests(org_id, created_at DESC, id DESC);
-- One uploader of one request: the random cookie names it (SHA-256 kept, never the value).
CREATE TABLE request_uploaders (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    password_gen INTEGER NOT NULL,
    name        TEXT,
    email       TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX request_uploaders_request ON request_uploaders(request_id);
-- Files that came through a request: who sent them, and their note. A file the owner deletes
-- from the library leaves its row (for the activity) without a file.
CREATE TABLE request_files (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    uploader_id INTEGER NOT NULL REFERENCES request_uploaders(id) ON DELETE CASCADE,
    file_id     INTEGER REFERENCES files(id) ON DELETE SET NULL,
    name        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    note        TEXT,
    created_at  INTEGER NOT NULL,
    removed_at  INTEGER
);
CREATE INDEX request_files_request ON request_files(request_id, id);
CREATE INDEX request_files_uploader ON request_files(uploader_id, id);
CREATE INDEX request_files_file ON request_files(file_id);
-- A request's tus uploads reserve a file slot and their declared bytes while they live.
ALTER TABLE tus_uploads ADD COLUMN request_id INTEGER REFERENCES requests(id) ON DELETE CASCADE;
ALTER TABLE tus_uploads ADD COLUMN uploader_id INTEGER;
ALTER TABLE tus_uploads ADD COLUMN note TEXT;
CREATE INDEX tus_uploads_request ON tus_uploads(request_id, expires_at);
-- The outbox also carries the batched "new files" mails of requests: a row is about one of a
-- share, a link or a request. `after_file` is the last request file an earlier mail listed.
CREATE TABLE outbox_v11 (
    id              INTEGER PRIMARY KEY,
    share_id        INTEGER REFERENCES shares(id) ON DELETE CASCADE,
    link_id         INTEGER REFERENCES password_links(id) ON DELETE CASCADE,
    request_id      INTEGER REFERENCES requests(id) ON DELETE CASCADE,
    after_file      INTEGER,
    upto_file       INTEGER,
    email           TEXT NOT NULL,
    name            TEXT,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    CHECK ((share_id IS NOT NULL) + (link_id IS NOT NULL) + (request_id IS NOT NULL) = 1)
);
INSERT INTO outbox_v11 (id, share_id, link_id, email, name, kind, status, attempts,
                        next_attempt_at, last_error, created_at, sent_at)
SELECT id, share_id, link_id, email, name, kind, status, attempts, next_attempt_at, last_error,
       created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v11 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_share_email ON outbox(share_id, email COLLATE NOCASE, id DESC);
CREATE INDEX outbox_link ON outbox(link_id);
CREATE INDEX outbox_request ON outbox(request_id, email, id DESC);

-- version: 12
-- Each blob records its store: `fs` (blobs/ under the data dir) or `s3://bucket/prefix`. Reads
-- use it, so `blobs migrate` can move blobs while the server serves (issue 21).
ALTER TABLE blobs ADD COLUMN store TEXT NOT NULL DEFAULT 'fs';
-- Which stores are in use (checked at start), and the blobs a migration has left to move.
CREATE INDEX blobs_store ON blobs(store, id);

-- version: 13
-- A tus upload into a bucket goes up part by part while it arrives (issue 21): the store and
-- object it goes to, its multipart upload, the bytes already sent (`sent`, freed on disk) with
-- the SHA-256 state and CRC-32 after them, so a restart hashes nothing again. Once the object
-- is whole, `mp_id` is null, `sent` is the length and `sha_state` the final digest.
ALTER TABLE tus_uploads ADD COLUMN store TEXT NOT NULL DEFAULT 'fs';
ALTER TABLE tus_uploads ADD COLUMN blob_id TEXT;
ALTER TABLE tus_uploads ADD COLUMN mp_id TEXT;
ALTER TABLE tus_uploads ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tus_uploads ADD COLUMN sha_state BLOB;
ALTER TABLE tus_uploads ADD COLUMN crc INTEGER NOT NULL DEFAULT 0;
CREATE TABLE tus_parts (
    upload_id INTEGER NOT NULL REFERENCES tus_uploads(id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    etag      TEXT NOT NULL,
    PRIMARY KEY (upload_id, idx)
) WITHOUT ROWID;

-- version: 14
-- A request's counts (files that came through it and are still in the library, their bytes,
-- and the uploaders who sent them), kept by triggers in the transaction of the change, so a
-- request's page, the list and every upload's limit check read one row, however many files
-- came. `request_uploaders.live_files` tells when an uploader starts or stops counting. A
-- file deleted from the library sets `file_id` to null (a foreign key action, which fires
-- the update trigger); a request deleted takes its rows along, and an uploader is deleted
-- only with their request or when they sent nothing (`delete_idle_uploaders`).
ALTER TABLE requests ADD COLUMN live_files INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN live_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN live_uploaders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_uploaders ADD COLUMN live_files INTEGER NOT NULL DEFAULT 0;
UPDATE request_uploaders SET live_files = (
    SELECT COUNT(*) FROM request_files f
    WHERE f.uploader_id = request_uploaders.id AND f.file_id IS NOT NULL);
UPDATE requests SET
    live_files = (SELECT COUNT(*) FROM request_files f
                  WHERE f.request_id = requests.id AND f.file_id IS NOT NULL),
    live_bytes = (SELECT COALESCE(SUM(f.size), 0) FROM request_files f
                  WHERE f.request_id = requests.id AND f.file_id IS NOT NULL),
    live_uploaders = (SELECT COUNT(*) FROM request_uploaders u
                      WHERE u.request_id = requests.id AND u.live_files > 0);
CREATE TRIGGER request_files_live_in AFTER INSERT ON request_files
WHEN NEW.file_id IS NOT NULL
BEGIN
    UPDATE request_uploaders SET live_files = live_files + 1 WHERE id = NEW.uploader_id;
    UPDATE requests SET live_files = live_files + 1, live_bytes = live_bytes + NEW.size,
        live_uploaders = live_uploaders + COALESCE(
            (SELECT live_files = 1 FROM request_uploaders WHERE id = NEW.uploader_id), 0)
    WHERE id = NEW.request_id;
END;
CREATE TRIGGER request_files_live_gone AFTER UPDATE OF file_id ON request_files
WHEN OLD.file_id IS NOT NULL AND NEW.file_id IS NULL
BEGIN
    UPDATE request_uploaders SET live_files = live_files - 1 WHERE id = OLD.uploader_id;
    UPDATE requests SET live_files = live_files - 1, live_bytes = live_bytes - OLD.size,
        live_uploaders = live_uploaders - COALESCE(
            (SELECT live_files = 0 FROM request_uploaders WHERE id = OLD.uploader_id), 0)
    WHERE id = OLD.request_id;
END;
CREATE TRIGGER request_files_live_deleted AFTER DELETE ON request_files
WHEN OLD.file_id IS NOT NULL
BEGIN
    UPDATE request_uploaders SET live_files = live_files - 1 WHERE id = OLD.uploader_id;
    UPDATE requests SET live_files = live_files - 1, live_bytes = live_bytes - OLD.size,
        live_uploaders = live_uploaders - COALESCE(
            (SELECT live_files = 0 FROM request_uploaders WHERE id = OLD.uploader_id), 0)
    WHERE id = OLD.request_id;
END;
