//! Schema version 14: a request's counts (files still in the library, their bytes, the
//! uploaders who sent them) match a recount after the migration and after every write that
//! touches them: a file landing, one deleted from the library (the foreign key's SET NULL),
//! a request row going with its files.

use super::{schema_up_to, Db};

/// (id, files, bytes, uploaders) of every request as kept, and as counted.
fn kept_and_counted(db: &Db) -> (Vec<[i64; 4]>, Vec<[i64; 4]>) {
    db.read_sync(|c| {
        let read = |sql: &str| -> Result<Vec<[i64; 4]>, crate::error::AppError> {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        };
        let kept =
            read("SELECT id, live_files, live_bytes, live_uploaders FROM requests ORDER BY id")?;
        let counted = read(
            "SELECT r.id,
                (SELECT COUNT(*) FROM request_files f
                 WHERE f.request_id = r.id AND f.file_id IS NOT NULL),
                (SELECT COALESCE(SUM(f.size), 0) FROM request_files f
                 WHERE f.request_id = r.id AND f.file_id IS NOT NULL),
                (SELECT COUNT(DISTINCT f.uploader_id) FROM request_files f
                 WHERE f.request_id = r.id AND f.file_id IS NOT NULL)
             FROM requests r ORDER BY r.id",
        )?;
        Ok((kept, counted))
    })
    .unwrap()
}

const FILES: &str = "INSERT INTO files (id, uuid, org_id, folder_id, name, mime, visibility,
                          blob_id, created_at, modified_at) VALUES";

#[test]
fn version_14_counts_what_came_and_keeps_counting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let c = schema_up_to(&path, 13);
        c.execute_batch(&format!(
            "INSERT INTO orgs VALUES (1, 'o', 'acme', 's', 0);
             INSERT INTO folders (id, uuid, org_id, parent_id, name, created_at, updated_at)
                 VALUES (1, 'root', 1, NULL, '/', 0, 0);
             INSERT INTO blobs (id, size, sha256, crc32) VALUES ('b1', 10, 'h', 0);
             {FILES} (1, 'f1', 1, 1, 'a', 'text/plain', 'ORG', 'b1', 0, 0),
                     (2, 'f2', 1, 1, 'b', 'text/plain', 'ORG', 'b1', 0, 0),
                     (3, 'f3', 1, 1, 'c', 'text/plain', 'ORG', 'b1', 0, 0);
             INSERT INTO requests (id, uuid, puid, org_id, title, created_at, updated_at)
                 VALUES (1, 'r1', 'p1', 1, 'one', 0, 0), (2, 'r2', 'p2', 1, 'two', 0, 0);
             INSERT INTO request_uploaders (id, request_id, token_hash, password_gen, created_at,
                                            expires_at)
                 VALUES (1, 1, 't1', 0, 0, 9), (2, 1, 't2', 0, 0, 9), (3, 2, 't3', 0, 0, 9);
             INSERT INTO request_files (id, request_id, uploader_id, file_id, name, size,
                                        created_at)
                 VALUES (1, 1, 1, 1, 'a', 100, 0), (2, 1, 1, 2, 'b', 20, 0),
                        (3, 1, 2, NULL, 'gone', 5, 0), (4, 2, 3, 3, 'c', 7, 0);"
        ))
        .unwrap();
    }
    let db = Db::open(&path).unwrap();
    let (kept, counted) = kept_and_counted(&db);
    assert_eq!(kept, counted);
    assert_eq!(
        kept,
        vec![[1, 2, 120, 1], [2, 1, 7, 1]],
        "the migration counted"
    );

    let steps = [
        // a second uploader's first file, then a second one of theirs
        format!(
            "{FILES} (4, 'f4', 1, 1, 'd', 'text/plain', 'ORG', 'b1', 0, 0),
                     (5, 'f5', 1, 1, 'e', 'text/plain', 'ORG', 'b1', 0, 0);
             INSERT INTO request_files (id, request_id, uploader_id, file_id, name, size,
                                        created_at) VALUES (5, 1, 2, 4, 'd', 1000, 0);"
        ),
        "INSERT INTO request_files (id, request_id, uploader_id, file_id, name, size, created_at)
             VALUES (6, 1, 2, 5, 'e', 3, 0);"
            .into(),
        // deleted from the library: the row stays, without its file
        "DELETE FROM files WHERE id = 1;".into(),
        "DELETE FROM files WHERE id IN (2, 4);".into(),
        // the uploader's last file goes: they no longer count
        "DELETE FROM files WHERE id = 5;".into(),
        // a request goes with its files; the other keeps its counts
        "DELETE FROM requests WHERE id = 1;".into(),
    ];
    for sql in steps {
        let run = sql.clone();
        db.write_sync(move |tx| Ok(tx.execute_batch(&run)?))
            .unwrap();
        let (kept, counted) = kept_and_counted(&db);
        assert_eq!(kept, counted, "after {sql}");
    }
    let (kept, _) = kept_and_counted(&db);
    assert_eq!(kept, vec![[2, 1, 7, 1]]);
}
