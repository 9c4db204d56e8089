//! Test helper: does a query read through the index it was written for? `EXPLAIN QUERY PLAN`
//! on a migrated database, its parameters left unbound (NULL: the plan does not depend on them).
//! A full scan or a sort in a temporary B-tree makes the query cost the table, not the page.

use r2d2_sqlite::rusqlite::{self, Connection};

/// A migrated database in a temporary directory (kept alive by the returned guard).
pub fn scratch() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Connection::open(dir.path().join("plan.db")).unwrap();
    super::migrate(&mut c).unwrap();
    (dir, c)
}

/// The `detail` lines of the query's plan, in order.
pub fn plan(c: &Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = c
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .map_err(|e| format!("prepare: {e}"))?;
    let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
    let rows = stmt
        .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .map_err(|e| format!("explain: {e}"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("explain: {e}"))
}

/// Ok when the plan reads through `index` and neither scans a table (`SCAN <table>`, with or
/// without an index: a full pass either way) nor sorts in a temporary B-tree.
pub fn assert_uses_index(c: &Connection, sql: &str, index: &str) -> Result<(), String> {
    let lines = plan(c, sql)?;
    let text = lines.join("\n");
    let uses = lines.iter().any(|l| {
        l.contains(&format!("USING INDEX {index} "))
            || l.ends_with(&format!("USING INDEX {index}"))
            || l.contains(&format!("USING COVERING INDEX {index} "))
            || l.ends_with(&format!("USING COVERING INDEX {index}"))
    });
    if !uses {
        return Err(format!("plan does not use {index}:\n{text}"));
    }
    if let Some(l) = lines
        .iter()
        .find(|l| l.starts_with("SCAN ") && !l.starts_with("SCAN CONSTANT ROW"))
    {
        return Err(format!("plan scans ({l}):\n{text}"));
    }
    if let Some(l) = lines.iter().find(|l| l.contains("USE TEMP B-TREE")) {
        return Err(format!("plan sorts ({l}):\n{text}"));
    }
    Ok(())
}

/// `assert_uses_index`, failing the test with the plan.
pub fn assert_plan(c: &Connection, sql: &str, index: &str) {
    if let Err(e) = assert_uses_index(c, sql, index) {
        panic!("{e}\nquery: {sql}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BY_NAME: &str =
        "SELECT id, name FROM files WHERE folder_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3";

    #[test]
    fn an_indexed_range_read_passes() {
        let (_dir, c) = scratch();
        assert_plan(&c, BY_NAME, "files_folder_name");
    }

    #[test]
    fn the_assertion_fails_without_the_index() {
        let (_dir, c) = scratch();
        c.execute_batch("DROP INDEX files_folder_name; DROP INDEX files_folder_visibility_name;")
            .unwrap();
        let e = assert_uses_index(&c, BY_NAME, "files_folder_name").unwrap_err();
        assert!(e.contains("does not use files_folder_name"), "{e}");
    }

    #[test]
    fn a_scan_or_a_sort_fails() {
        let (_dir, c) = scratch();
        let e = assert_uses_index(
            &c,
            "SELECT id FROM files WHERE folder_id = ?1 ORDER BY modified_at LIMIT 5",
            "files_folder_name",
        )
        .unwrap_err();
        assert!(e.contains("sorts") || e.contains("does not use"), "{e}");
        let e = assert_uses_index(
            &c,
            "SELECT id FROM files ORDER BY name",
            "files_folder_name",
        )
        .unwrap_err();
        assert!(e.contains("scans") || e.contains("does not use"), "{e}");
    }
}
