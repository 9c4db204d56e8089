//! `GET /openapi.json` of the real app (`sharebox::app` over a temp data dir, support/common.rs):
//!
//! - the document is valid OpenAPI, as the PyPI `openapi-spec-validator` (pinned in
//!   tests/sdk/setup_venv.sh) judges it;
//! - every operation has an `operationId`, and no two share one;
//! - every operation has a one-line `summary` (utoipa takes it from the handler's first doc line);
//! - the share create and update operations of both dialects describe their JSON body: an object
//!   schema with its properties, not a bare `{"type": "object"}`.
//!
//! Each test collects every problem it finds and reports them all at once.
//!
//! The venv is `$SHAREBOX_SDK_VENV`, default `target/sdk-venv`, made or brought up to date by
//! tests/sdk/setup_venv.sh (which returns at once when the venv already has its pins). The
//! validator test fails, never skips, when that does not work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/common.rs"]
mod common;
#[path = "support/output.rs"]
mod output;
#[path = "support/venv.rs"]
mod venv;

use common::{request, TestApp};
use output::text;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use venv::sdk_venv;

/// The HTTP methods an OpenAPI path item may hold operations under.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document as the running app serves it.
async fn document() -> Value {
    let app = TestApp::new().await;
    let r = app.call(request("GET", "/openapi.json")).await;
    assert_eq!(r.status, 200, "GET /openapi.json: {}", r.text());
    r.json()
}

/// Every operation as ("METHOD /path", operation object), in path then method order.
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("the document has no `paths` object: {doc}"));
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((format!("{} {path}", method.to_uppercase()), op));
            }
        }
    }
    assert!(!out.is_empty(), "the document lists no operation");
    out
}

/// Fails with every problem found, one per line.
fn report(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Follows local `$ref`s (`#/components/...`) until a value without one.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..32 {
        let Some(r) = v.get("$ref") else {
            return Ok(v);
        };
        let r = r
            .as_str()
            .ok_or_else(|| format!("`$ref` is not a string: {r}"))?;
        let pointer = r
            .strip_prefix('#')
            .ok_or_else(|| format!("`$ref` {r} is not local to the document"))?;
        v = doc
            .pointer(pointer)
            .ok_or_else(|| format!("`$ref` {r} points at nothing"))?;
    }
    Err("`$ref` chain longer than 32 (a cycle?)".into())
}

/// The properties of an object schema (`$ref`s followed, `allOf` parts merged).
fn object_properties(doc: &Value, schema: &Value) -> Result<BTreeMap<String, Value>, String> {
    let schema = resolve(doc, schema)?;
    let mut props = BTreeMap::new();
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            props.extend(object_properties(doc, part)?);
        }
    }
    let is_object = match &schema["type"] {
        Value::String(t) => t == "object",
        Value::Array(ts) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if is_object || schema.get("properties").is_some() {
        if let Some(own) = schema.get("properties") {
            let own = own
                .as_object()
                .ok_or_else(|| format!("`properties` is not a map: {own}"))?;
            props.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    } else if props.is_empty() {
        return Err(format!("not an object schema: {schema}"));
    }
    Ok(props)
}

#[actix_web::test]
async fn the_document_passes_openapi_spec_validator() {
    let doc = document().await;
    let venv = sdk_venv();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).expect("write openapi.json");
    let o = Command::new(venv.join("bin").join("python"))
        .args(["-m", "openapi_spec_validator", "--validation-errors", "all"])
        .arg(&file)
        .output()
        .expect("run python -m openapi_spec_validator");
    if !o.status.success() {
        // Keep the document the validator saw, so its messages can be looked up in it.
        let kept = dir.keep().join("openapi.json");
        panic!(
            "openapi-spec-validator rejects GET /openapi.json (the document is kept at {})\n{}",
            kept.display(),
            text(&o)
        );
    }
}

#[actix_web::test]
async fn every_operation_has_a_unique_operation_id() {
    let doc = document().await;
    let mut problems = Vec::new();
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let ops = operations(&doc);
    for (name, op) in &ops {
        match op.get("operationId").and_then(Value::as_str) {
            Some(id) if !id.trim().is_empty() => by_id.entry(id).or_default().push(name),
            Some(_) => problems.push(format!("{name}: empty operationId")),
            None => problems.push(format!("{name}: no operationId")),
        }
    }
    for (id, names) in &by_id {
        if names.len() > 1 {
            problems.push(format!(
                "operationId `{id}` is used by {}: {}",
                names.len(),
                names.join(", ")
            ));
        }
    }
    report("operationIds", &problems);
}

#[actix_web::test]
async fn every_operation_has_a_one_line_summary() {
    let doc = document().await;
    let mut problems = Vec::new();
    for (name, op) in operations(&doc) {
        match op.get("summary").and_then(Value::as_str) {
            None => problems.push(format!(
                "{name}: no summary (give the handler a first doc line)"
            )),
            Some(s) if s.trim().is_empty() => problems.push(format!("{name}: empty summary")),
            Some(s) if s.contains('\n') => problems.push(format!(
                "{name}: summary is more than one line (end the first paragraph of the doc \
                 comment after one line): {s:?}"
            )),
            Some(_) => {}
        }
    }
    report("summaries", &problems);
}

#[actix_web::test]
async fn share_create_and_update_bodies_are_described() {
    let doc = document().await;
    // (method, path, properties the body schema must name)
    let wanted: [(&str, &str, &[&str]); 5] = [
        ("post", "/{token}/v5/shares", &["title", "items"]),
        ("put", "/{token}/v5/shares/{uuid}", &["title", "items"]),
        ("post", "/api/share", &["name", "sharedContents"]),
        ("put", "/api/share/{id}", &["name", "sharedContents"]),
        (
            "post",
            "/api/asset/{assetId}/share",
            &["name", "sharedContents"],
        ),
    ];
    let mut problems = Vec::new();
    for (method, path, names) in wanted {
        let op_name = format!("{} {path}", method.to_uppercase());
        let Some(op) = doc["paths"].get(path).and_then(|item| item.get(method)) else {
            problems.push(format!("{op_name}: not in the document"));
            continue;
        };
        let body = match op.get("requestBody").map(|b| resolve(&doc, b)) {
            None => {
                problems.push(format!("{op_name}: no requestBody"));
                continue;
            }
            Some(Err(e)) => {
                problems.push(format!("{op_name}: requestBody: {e}"));
                continue;
            }
            Some(Ok(b)) => b,
        };
        let Some(schema) = body["content"]
            .get("application/json")
            .and_then(|c| c.get("schema"))
        else {
            problems.push(format!(
                "{op_name}: requestBody has no application/json schema: {body}"
            ));
            continue;
        };
        match object_properties(&doc, schema) {
            Err(e) => problems.push(format!("{op_name}: request body schema: {e}")),
            Ok(props) if props.is_empty() => problems.push(format!(
                "{op_name}: request body schema has no properties: {}",
                resolve(&doc, schema).unwrap_or(schema)
            )),
            Ok(props) => {
                let missing: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| !props.contains_key(*n))
                    .collect();
                if !missing.is_empty() {
                    problems.push(format!(
                        "{op_name}: request body schema lacks {} (has {})",
                        missing.join(", "),
                        props.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
    }
    report("share request bodies", &problems);
}
