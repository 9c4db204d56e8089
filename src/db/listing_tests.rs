//! The listing queries read through their index (plans on a migrated database), and page
//! through a folder's contents in order.

use super::*;
use crate::db::assets::{find_folder, Slice, Sort, SortKey};
use crate::db::plan::{assert_plan, assert_uses_index, scratch};
use crate::domain::paging::{window, Seek};

fn bounds() -> [Bound; 4] {
    [
        Bound::After(None),
        Bound::After(Some("x".into())),
        Bound::Before(None),
        Bound::Before(Some("x".into())),
    ]
}

const BY_NAME: Sort = Sort {
    key: SortKey::Name,
    desc: false,
};

#[test]
fn keyset_and_offset_reads_use_their_index() {
    let (_dir, c) = scratch();
    for b in bounds() {
        assert_plan(&c, &child_folders_sql(&b), "folders_parent_name");
        assert_plan(&c, &child_files_sql(&b), "files_folder_name");
    }
    for desc in [false, true] {
        let o = Sort { desc, ..BY_NAME };
        assert_plan(&c, &child_folders_sql_sorted(o), "folders_parent_name");
        assert_plan(&c, &child_files_sql_sorted(o), "files_folder_name");
    }
    assert_plan(&c, COUNT_FOLDERS_LIKE, "folders_parent_name");
    assert_plan(&c, COUNT_FILES_LIKE, "files_folder_name");
    for desc in [false, true] {
        assert_plan(&c, &children_sql(false, desc), "folders_parent_name");
        assert_plan(&c, &children_sql(true, desc), "files_folder_name");
    }
}

#[test]
fn without_the_index_the_plan_assertion_fails() {
    let (_dir, c) = scratch();
    c.execute_batch("DROP INDEX folders_parent_name;").unwrap();
    let e = assert_uses_index(
        &c,
        &child_folders_sql(&Bound::After(Some("x".into()))),
        "folders_parent_name",
    )
    .unwrap_err();
    assert!(e.contains("folders_parent_name"), "{e}");
}

/// A folder `a` (id 2) holding folders d0..d{d} and files f0..f{f} of 1 byte each.
fn filled(d: usize, f: usize) -> (tempfile::TempDir, Connection) {
    let (dir, c) = scratch();
    c.execute_batch(
        "INSERT INTO orgs VALUES (1, 'o', 'acme', 's', 0);
         INSERT INTO folders (id, uuid, org_id, parent_id, name, created_at, updated_at)
             VALUES (1, 'root', 1, NULL, '/', 0, 0), (2, 'a', 1, 1, 'a', 0, 0);
         INSERT INTO blobs (id, size, sha256, crc32) VALUES ('b', 1, 'h', 0);",
    )
    .unwrap();
    for i in 0..d {
        c.execute(
            "INSERT INTO folders (uuid, org_id, parent_id, name, created_at, updated_at)
             VALUES (?1, 1, 2, ?1, 0, 0)",
            [format!("d{i:03}")],
        )
        .unwrap();
    }
    for i in 0..f {
        c.execute(
            "INSERT INTO files (uuid, org_id, folder_id, name, mime, blob_id, created_at, modified_at)
             VALUES (?1, 1, 2, ?2, 'text/plain', 'b', 0, 0)",
            [format!("u{i:03}"), format!("f{i:03}.txt")],
        )
        .unwrap();
    }
    (dir, c)
}

#[test]
fn pages_walk_the_folder_in_order_and_count_from_the_aggregates() {
    let (_dir, c) = filled(3, 25);
    let a = find_folder(&c, 1, "a").unwrap().unwrap();
    assert_eq!(
        aggregates(&c, a.id).unwrap(),
        Aggregates {
            files: 25,
            bytes: 25,
            folders: 3
        }
    );
    let page = |seek: &Seek| {
        window(
            seek,
            10,
            |b, n| child_folders(&c, &a, &b, None, n),
            |b, n| child_files(&c, &a, &b, None, n),
        )
        .unwrap()
    };
    let first = page(&Seek::First);
    assert_eq!(first.folders.len(), 3);
    assert_eq!(first.folders[0].row.path, "/a/d000");
    assert_eq!(first.files.len(), 7);
    assert!(first.has_next && !first.has_prev);
    let last = page(&Seek::After(crate::domain::paging::Key {
        file: true,
        name: "f016.txt".into(),
    }));
    assert_eq!(last.files.len(), 8);
    assert!(!last.has_next && last.has_prev);
    assert_eq!(last.files[0].name, "f017.txt");

    let (rows, total) = folders_slice(
        &c,
        &a,
        BY_NAME,
        Slice {
            limit: 2,
            offset: 1,
        },
    )
    .unwrap();
    assert_eq!((rows[0].name.as_str(), rows.len(), total), ("d001", 2, 3));
    let (rows, total) = files_slice(
        &c,
        &a,
        Sort {
            desc: true,
            ..BY_NAME
        },
        Slice {
            limit: 2,
            offset: 0,
        },
    )
    .unwrap();
    assert_eq!((rows[0].name.as_str(), total), ("f024.txt", 25));
    // Nomad's children: the offset crosses from folders into files.
    let (kids, total) = children_by_name(
        &c,
        &a,
        false,
        Slice {
            limit: 3,
            offset: 2,
        },
    )
    .unwrap();
    assert_eq!(total, 28);
    let uuids: Vec<_> = kids.iter().map(|k| k.1.as_str()).collect();
    assert_eq!(uuids, ["d002", "u000", "u001"]);
    let (kids, _) = children_by_name(
        &c,
        &a,
        false,
        Slice {
            limit: -1,
            offset: 5,
        },
    )
    .unwrap();
    assert_eq!(kids.len(), 23);
    assert_eq!(kids[0].1, "u002");
}

#[test]
fn a_name_filter_is_literal() {
    let (_dir, c) = filled(0, 3);
    c.execute_batch(
        "INSERT INTO files (uuid, org_id, folder_id, name, mime, blob_id, created_at, modified_at)
         VALUES ('p', 1, 2, '100% done_x.txt', 'text/plain', 'b', 0, 0),
                ('q', 1, 2, '100 done.txt', 'text/plain', 'b', 0, 0),
                ('r', 1, 2, 'back\\slash.txt', 'text/plain', 'b', 0, 0);",
    )
    .unwrap();
    let a = find_folder(&c, 1, "a").unwrap().unwrap();
    let names = |x: &str| -> Vec<String> {
        let p = contains_pattern(x);
        child_files(&c, &a, &Bound::After(None), Some(&p), 50)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect()
    };
    assert_eq!(names("% d"), ["100% done_x.txt"]);
    assert_eq!(names("_x"), ["100% done_x.txt"]);
    assert_eq!(names("k\\s"), ["back\\slash.txt"]);
    assert_eq!(names("F001"), ["f001.txt"], "ASCII case does not matter");
    assert_eq!(count_like(&c, a.id, &contains_pattern("%")).unwrap(), 1);
    assert_eq!(count_like(&c, a.id, &contains_pattern("")).unwrap(), 6);
}

#[test]
fn a_keyset_bound_is_an_index_range_not_a_filter() {
    let (_dir, c) = scratch();
    let plan = |sql: String| crate::db::plan::plan(&c, &sql).unwrap().join("\n");
    assert!(plan(child_files_sql(&Bound::After(Some("x".into())))).contains("name>?"));
    assert!(plan(child_files_sql(&Bound::Before(Some("x".into())))).contains("name<?"));
    assert!(plan(child_folders_sql(&Bound::After(Some("x".into())))).contains("name>?"));
    assert!(plan(child_folders_sql(&Bound::Before(Some("x".into())))).contains("name<?"));
}

#[test]
fn share_pages_read_shares_org_created() {
    use crate::db::shares::{share_page_sql, ShareSeek, COUNT_SHARES, COUNT_SHARES_LIKE};
    let (_dir, c) = scratch();
    for s in [
        ShareSeek::First,
        ShareSeek::After(1, 1),
        ShareSeek::Before(1, 1),
    ] {
        assert_plan(&c, &share_page_sql(s), "shares_org_created");
    }
    assert_plan(&c, COUNT_SHARES, "shares_org_created");
    assert_plan(&c, COUNT_SHARES_LIKE, "shares_org_created");
    let plan = |s| {
        crate::db::plan::plan(&c, &share_page_sql(s))
            .unwrap()
            .join("\n")
    };
    // The index bounds the read by created_at; the id part of the row value filters ties.
    assert!(plan(ShareSeek::After(1, 1)).contains("org_id=? AND created_at<?"));
    assert!(plan(ShareSeek::Before(1, 1)).contains("org_id=? AND created_at>?"));
}

#[test]
fn share_pages_walk_ties_in_order() {
    use crate::db::shares::{count_shares, share_page, ShareSeek};
    let (_dir, c) = scratch();
    c.execute_batch("INSERT INTO orgs VALUES (1, 'o', 'acme', 's', 0);")
        .unwrap();
    // Seven shares in three seconds: ties on created_at are broken by id.
    for i in 0..7i64 {
        c.execute(
            "INSERT INTO shares (uuid, puid, org_id, title, created_at, updated_at)
             VALUES (?1, ?1, 1, ?2, ?3, 0)",
            params![format!("s{i}"), format!("T{i}"), i / 3],
        )
        .unwrap();
    }
    let ids = |rows: Vec<crate::db::shares::ShareRow>| -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    };
    let p1 = ids(share_page(&c, 1, ShareSeek::First, None, 3).unwrap());
    assert_eq!(p1, [7, 6, 5]);
    let p2 = ids(share_page(&c, 1, ShareSeek::After(1, 5), None, 3).unwrap());
    assert_eq!(p2, [4, 3, 2]);
    let back = ids(share_page(&c, 1, ShareSeek::Before(1, 4), None, 3).unwrap());
    assert_eq!(back, [5, 6, 7], "oldest first, for the caller to reverse");
    assert_eq!(count_shares(&c, 1, None).unwrap(), 7);
    assert_eq!(count_shares(&c, 1, Some("%T3%")).unwrap(), 1);
}
