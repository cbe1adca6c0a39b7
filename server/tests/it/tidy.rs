//! The architecture's invariants as tests (after rust-analyzer's tidy tests): SQL lives in
//! `server/src/store/` only; every source file starts with its `//!` doc; the router and core's
//! route table agree, both ways.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use evo_billing_core::routes::ROUTES;
use evo_billing_server::http::router::endpoint;

use crate::support::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (line comments; doc comments included) and without
/// its unit tests (from `#[cfg(test)]` on).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter_map(|(i, l)| {
            let t = l.trim_start();
            (!t.starts_with("//")).then_some((i + 1, l))
        })
}

const SQL_WORDS: [&str; 8] = [
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "CREATE TABLE",
    "DROP ",
    "ALTER TABLE",
    "ON CONFLICT",
];

#[test]
fn sql_is_only_in_the_store() {
    let src = workspace().join("server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        if rel.starts_with("store") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            let quoted = line
                .split('"')
                .skip(1)
                .step_by(2)
                .collect::<Vec<_>>()
                .join(" ");
            if SQL_WORDS.iter().any(|w| quoted.contains(w)) || line.contains("sqlx::") {
                found.push(format!("server/src/{}:{n}: {}", rel.display(), line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL or sqlx outside server/src/store/:\n{}",
        found.join("\n")
    );
    // The check can fail: the store itself is full of SQL.
    let store = std::fs::read_to_string(src.join("store/accounts.rs")).unwrap();
    assert!(code_lines(&store).any(|(_, l)| l.contains("INSERT INTO")));
}

#[test]
fn every_module_has_its_doc() {
    let mut files = Vec::new();
    for dir in [
        "core/src",
        "server/src",
        "server/tests",
        "xtask/src",
        "npm/src",
    ] {
        let d = workspace().join(dir);
        if d.exists() {
            rust_files(&d, &mut files);
        }
    }
    assert!(files.len() > 40, "{} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! doc:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_router_names_exactly_the_table() {
    // Every route of the table has a handler...
    for r in ROUTES {
        assert!(endpoint(r, r.verbs).is_some(), "no handler for {}", r.name);
    }
    // ...and every handler the router names is in the table.
    let router = std::fs::read_to_string(workspace().join("server/src/http/router.rs")).unwrap();
    let body = router
        .split("pub fn endpoint(")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("the endpoint function");
    let arms: Vec<&str> = code_lines(body)
        .filter_map(|(_, l)| {
            let t = l.trim();
            t.strip_prefix('"')
                .and_then(|rest| rest.split_once("\" =>"))
                .map(|(name, _)| name)
        })
        .collect();
    assert_eq!(arms.len(), ROUTES.len(), "{arms:?}");
    for a in &arms {
        assert!(
            ROUTES.iter().any(|r| r.name == *a),
            "{a} is not in core's route table"
        );
    }
    // No route is added anywhere but from the table.
    let mut files = Vec::new();
    rust_files(&workspace().join("server/src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in code_lines(&text) {
            if line.contains(".route(\"") || line.contains(".nest(\"") {
                panic!(
                    "{}:{n}: a route outside the table: {}",
                    f.display(),
                    line.trim()
                );
            }
        }
    }
}

/// Every path and verb of the table reaches a handler (no 404 "No route" from the fallback).
async fn every_route_of_the_table_is_served(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(ADMIN).await;
    for r in ROUTES {
        let filled = |p: &str| {
            p.replace("{id}", "rep_none")
                .replace("{file}", "download.csv")
                .replace("{accountId}", "acc-a")
                .replace("{customerId}", "cus-a1")
        };
        let mut targets: Vec<(String, &str)> = Vec::new();
        if let Some(p) = r.path {
            for v in r.verbs {
                targets.push((filled(p), v));
            }
        }
        for p in [r.api_path(), r.json_reply_path()].into_iter().flatten() {
            for v in r.api_verbs() {
                targets.push((p.clone(), v));
            }
        }
        assert!(!targets.is_empty(), "{}", r.name);
        for (path, verb) in targets {
            if r.name == "Logout" || (r.name == "Auth" && verb == "DELETE") {
                continue; // would end the session the loop uses
            }
            let reply = app
                .call(verb, &path, Some(&t), "application/json", "{}")
                .await;
            let routed = !(reply.status == StatusCode::NOT_FOUND
                && reply.text().contains("No route matches"))
                && reply.status != StatusCode::METHOD_NOT_ALLOWED;
            assert!(
                routed,
                "{verb} {path} ({}): {} {}",
                r.name,
                reply.status,
                reply.text()
            );
        }
    }
    // And something outside the table is not.
    let reply = app.call("GET", "/billing/nothing", Some(&t), "", "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

on_both_backends!(every_route_of_the_table_is_served);
