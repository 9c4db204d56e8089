//! Schema versions 8 and 10: the per-folder aggregates (what sits directly inside, and the
//! subtree totals) match a recount after the migration and after every kind of write the
//! library makes (insert, rename, move, new contents, delete, cascade).

use super::{schema_up_to, Db};

/// (id, file_count, pub_count, org_count, byte_count, folder_count, pub_bytes, org_bytes,
/// tree_pub_count, tree_org_count, tree_pub_bytes, tree_org_bytes) as kept, and as counted.
fn kept_and_counted(db: &Db) -> (Vec<[i64; 12]>, Vec<[i64; 12]>) {
    db.read_sync(|c| {
        let read = |sql: &str| -> Result<Vec<[i64; 12]>, crate::error::AppError> {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                let mut row = [0; 12];
                for (i, v) in row.iter_mut().enumerate() {
                    *v = r.get(i)?;
                }
                Ok(row)
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        };
        let kept = read(
            "SELECT id, file_count, pub_count, org_count, byte_count, folder_count, pub_bytes,
                org_bytes, tree_pub_count, tree_org_count, tree_pub_bytes, tree_org_bytes
             FROM folders ORDER BY id",
        )?;
        // `sub`: every folder (top) with each folder at or below it (id).
        let counted = read(
            "WITH RECURSIVE sub(top, id) AS (
                SELECT id, id FROM folders
                UNION ALL
                SELECT sub.top, c.id FROM sub JOIN folders c ON c.parent_id = sub.id
             )
             SELECT f.id,
                (SELECT COUNT(*) FROM files WHERE folder_id = f.id),
                (SELECT COUNT(*) FROM files WHERE folder_id = f.id AND visibility = 'PUB'),
                (SELECT COUNT(*) FROM files WHERE folder_id = f.id AND visibility = 'ORG'),
                (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.folder_id = f.id),
                (SELECT COUNT(*) FROM folders c WHERE c.parent_id = f.id),
                (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.folder_id = f.id AND x.visibility = 'PUB'),
                (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.folder_id = f.id AND x.visibility = 'ORG'),
                (SELECT COUNT(*) FROM files x WHERE x.visibility = 'PUB'
                 AND x.folder_id IN (SELECT id FROM sub WHERE top = f.id)),
                (SELECT COUNT(*) FROM files x WHERE x.visibility = 'ORG'
                 AND x.folder_id IN (SELECT id FROM sub WHERE top = f.id)),
                (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.visibility = 'PUB' AND x.folder_id IN (SELECT id FROM sub WHERE top = f.id)),
                (SELECT COALESCE(SUM(b.size), 0) FROM files x JOIN blobs b ON b.id = x.blob_id
                 WHERE x.visibility = 'ORG' AND x.folder_id IN (SELECT id FROM sub WHERE top = f.id))
             FROM folders f ORDER BY f.id",
        )?;
        Ok((kept, counted))
    })
    .unwrap()
}

#[test]
fn versions_8_and_10_count_what_exists_and_keep_counting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let c = schema_up_to(&path, 7);
        c.execute_batch(
            "INSERT INTO orgs VALUES (1, 'o', 'acme', 's', 0);
             INSERT INTO folders (id, uuid, org_id, parent_id, name, created_at, updated_at)
                 VALUES (1, 'root', 1, NULL, '/', 0, 0), (2, 'a', 1, 1, 'a', 0, 0),
                        (3, 'b', 1, 2, 'b', 0, 0);
             INSERT INTO blobs (id, size, sha256, crc32) VALUES ('b1', 10, 'h', 0), ('b2', 200, 'h', 0);
             INSERT INTO files (id, uuid, org_id, folder_id, name, mime, visibility, blob_id,
                                created_at, modified_at)
                 VALUES (1, 'f1', 1, 2, 'x.txt', 'text/plain', 'PUB', 'b1', 0, 0),
                        (2, 'f2', 1, 2, 'y.txt', 'text/plain', 'ORG', 'b2', 0, 0),
                        (3, 'f3', 1, 3, 'z.txt', 'text/plain', 'ORG', 'b2', 0, 0);",
        )
        .unwrap();
    }
    let db = Db::open(&path).unwrap();
    let (kept, counted) = kept_and_counted(&db);
    assert_eq!(kept, counted);
    assert_eq!(kept[1], [2, 2, 1, 1, 210, 1, 10, 200, 1, 2, 10, 400]);
    assert_eq!(kept[0][8..], [1, 2, 10, 400], "the root holds everything");

    let steps = [
        // a new file, a new folder
        "INSERT INTO blobs (id, size, sha256, crc32) VALUES ('b3', 3000, 'h', 0);
         INSERT INTO files (id, uuid, org_id, folder_id, name, mime, visibility, blob_id,
                            created_at, modified_at)
             VALUES (4, 'f4', 1, 3, 'w.txt', 'text/plain', 'PUB', 'b3', 0, 0);
         INSERT INTO folders (id, uuid, org_id, parent_id, name, created_at, updated_at)
             VALUES (4, 'c', 1, 1, 'c', 0, 0);",
        // a rename changes nothing; a visibility change and a move do
        "UPDATE files SET name = 'xx.txt' WHERE id = 1;
         UPDATE files SET visibility = 'PUB' WHERE id = 2;
         UPDATE files SET folder_id = 4 WHERE id = 3;",
        // new contents
        "UPDATE files SET blob_id = 'b3' WHERE id = 1;",
        // a folder moves, then one goes with what it holds
        "UPDATE folders SET parent_id = 4 WHERE id = 3;
         DELETE FROM folders WHERE id = 2;",
        "DELETE FROM files WHERE id = 3;",
        // a change three levels down climbs to the root; a folder goes with a subtree
        "INSERT INTO folders (id, uuid, org_id, parent_id, name, created_at, updated_at)
             VALUES (5, 'd', 1, 3, 'd', 0, 0);
         INSERT INTO files (id, uuid, org_id, folder_id, name, mime, visibility, blob_id,
                            created_at, modified_at)
             VALUES (5, 'f5', 1, 5, 'v.txt', 'text/plain', 'PUB', 'b1', 0, 0);",
        "DELETE FROM folders WHERE id = 4;",
    ];
    for sql in steps {
        db.write_sync(move |tx| Ok(tx.execute_batch(sql)?)).unwrap();
        let (kept, counted) = kept_and_counted(&db);
        assert_eq!(kept, counted, "after {sql}");
    }
    let (kept, _) = kept_and_counted(&db);
    assert_eq!(
        kept,
        vec![[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
        "only the root is left"
    );
}
