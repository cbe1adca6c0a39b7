//! `/openapi.json` promises what the server answers. Every operation of the served document is
//! called right and wrongly (anonymous, without arguments, with known and unknown ids, by a
//! Customer, with another verb, an unreadable Content-Type, a body over 4 MiB, taken ids, too
//! many sign-ins, and with the store closed), and each answer's status must be documented for
//! that operation, with its media type and its required headers (`Allow` on 405, `Retry-After`
//! on 429 and 503). Runs on SQLite and on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use evo_billing_core::routes;
use serde_json::{json, Map, Value};

use crate::support::*;

/// Who calls.
#[derive(Clone, Copy, PartialEq)]
enum Who<'a> {
    Anonymous,
    Key(&'a str),
}

/// What arguments a request carries.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Args {
    /// None at all.
    Nothing,
    /// The fixture's account acc-a, customer cus-a1, October 2026.
    Known,
    /// Ids nobody has.
    Unknown,
    /// Known, and the ids of an existing account or customer to create.
    Taken,
}

struct Checker {
    doc: Value,
    /// (verb path, status) → how many answers.
    seen: BTreeMap<(String, u16), usize>,
}

impl Checker {
    fn responses(&self, path: &str, verb: &str) -> &Map<String, Value> {
        self.doc["paths"][path][verb]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{verb} {path} is not documented"))
    }

    /// The answer is documented for the operation `verb path` (or, for a verb the path does not
    /// have, as the 405 of its operations).
    fn check(&mut self, path: &str, verb: &str, how: &str, r: &FullReply) {
        let documented_verbs = self.verbs(path);
        let op_verb = if documented_verbs.iter().any(|v| v == verb) {
            verb.to_string()
        } else {
            documented_verbs[0].clone()
        };
        let code = r.reply.status.as_u16();
        let responses = self.responses(path, &op_verb);
        let Some(doc) = responses.get(&code.to_string()) else {
            panic!(
                "{how}: {verb} {path} answered {code}, documented {:?}: {}",
                responses.keys().collect::<Vec<_>>(),
                r.reply.text()
            )
        };
        if !r.reply.body.is_empty() {
            let media = r.reply.content_type.split(';').next().unwrap_or("").trim();
            assert!(
                doc["content"].get(media).is_some(),
                "{how}: {verb} {path} {code} in {media}, documented {}",
                doc["content"]
            );
        }
        if let Some(headers) = doc["headers"].as_object() {
            for (name, h) in headers {
                if h["required"] == true {
                    assert!(
                        r.headers.contains_key(name.as_str()),
                        "{how}: {verb} {path} {code} without {name}: {:?}",
                        r.headers
                    );
                }
            }
        }
        if code == 405 {
            let allow = r.headers["allow"].to_str().unwrap().to_ascii_uppercase();
            let allowed: Vec<&str> = allow.split(',').map(str::trim).collect();
            for v in &documented_verbs {
                assert!(
                    allowed.contains(&v.to_ascii_uppercase().as_str()),
                    "{how}: {verb} {path}: Allow {allow} lacks {v}"
                );
            }
            assert!(
                !allowed.contains(&verb.to_ascii_uppercase().as_str()),
                "{how}: {verb} {path}: Allow {allow}"
            );
        }
        *self
            .seen
            .entry((format!("{op_verb} {path}"), code))
            .or_default() += 1;
    }

    /// The documented verbs of a path, lower case.
    fn verbs(&self, path: &str) -> Vec<String> {
        self.doc["paths"][path]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// Every documented operation: (path, verb).
    fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for verb in item.as_object().unwrap().keys() {
                out.push((path.clone(), verb.clone()));
            }
        }
        out
    }

    fn operation(&self, path: &str, verb: &str) -> &Value {
        &self.doc["paths"][path][verb]
    }
}

/// A path with its parameters filled.
fn filled(path: &str, args: Args) -> String {
    let known = matches!(args, Args::Known | Args::Taken);
    path.replace("{id}", "rep_none")
        .replace("{accountId}", if known { "acc-a" } else { "acc-none" })
        .replace("{customerId}", if known { "cus-a1" } else { "cus-none" })
}

/// A value for a request field, or `None` to leave it out.
fn value(field: &str, path: &str, args: Args) -> Option<Value> {
    let known = matches!(args, Args::Known | Args::Taken);
    Some(match field {
        "accountId" => json!(if known { "acc-a" } else { "acc-none" }),
        "customerId" => json!(if known { "cus-a1" } else { "cus-none" }),
        "sessionId" if args == Args::Unknown => json!("ses-none"),
        "callSid" => json!("CA-openapi-test"),
        "startDate" => json!("2026-10-01"),
        "endDate" => json!("2026-10-31"),
        "granularity" => json!("daily"),
        "name" => json!("Renamed by the openapi test"),
        "currency" => json!("USD"),
        "homeCountry" => json!("US"),
        "userName" => json!("nobody@test.evo"),
        "password" => json!("wrong"),
        "id" if args == Args::Taken => {
            json!(if path.starts_with("/accounts") {
                "acc-a"
            } else {
                "cus-a1"
            })
        }
        _ => return None,
    })
}

/// The request for an operation: query parameters of a GET, a JSON body otherwise.
fn request(c: &Checker, path: &str, verb: &str, who: Who, args: Args) -> Request<Body> {
    let op = c.operation(path, verb);
    let mut uri = filled(path, args);
    let mut body = Map::new();
    if args != Args::Nothing {
        let query: Vec<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| {
                let name = p["name"].as_str().unwrap();
                value(name, path, args).map(|v| format!("{name}={}", v.as_str().unwrap()))
            })
            .collect();
        if !query.is_empty() {
            uri = format!("{uri}?{}", query.join("&"));
        }
        if let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
        {
            for field in c.doc["components"]["schemas"][schema]["properties"]
                .as_object()
                .unwrap()
                .keys()
            {
                if let Some(v) = value(field, path, args) {
                    body.insert(field.clone(), v);
                }
            }
        }
    }
    let is_batch = op["requestBody"]["content"]["application/json"]["schema"]["type"] == "array";
    let mut b = Request::builder()
        .method(verb.to_ascii_uppercase().as_str())
        .uri(uri);
    if let Who::Key(k) = who {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    if op.get("requestBody").is_some() {
        let body = if is_batch {
            json!([Value::Object(body)])
        } else {
            Value::Object(body)
        };
        b = b.header("content-type", "application/json");
        return b.body(Body::from(body.to_string())).unwrap();
    }
    b.body(Body::empty()).unwrap()
}

/// An API key of a fixture user (keys survive the logouts the test calls).
async fn api_key(app: &TestApp, email: &str) -> String {
    let user = app.db.users().by_email(email).await.unwrap().unwrap();
    evo_billing_server::auth::create_api_key(&app.db, &user.id, "openapi test")
        .await
        .unwrap()
}

async fn every_answer_is_documented(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut c = Checker {
        doc: r.json(),
        seen: BTreeMap::new(),
    };
    let admin = api_key(&app, ADMIN.0).await;
    let customer = api_key(&app, CUSTOMER_A2.0).await;
    let ops = c.operations();
    assert!(ops.len() >= 20, "{} operations", ops.len());

    for (path, verb) in &ops {
        for (who, args, how) in [
            (Who::Anonymous, Args::Nothing, "anonymous"),
            (Who::Anonymous, Args::Known, "anonymous with arguments"),
            (Who::Key(&admin), Args::Nothing, "no arguments"),
            (Who::Key(&admin), Args::Known, "known ids"),
            (Who::Key(&admin), Args::Unknown, "unknown ids"),
            (Who::Key(&admin), Args::Taken, "taken ids"),
            (Who::Key(&customer), Args::Known, "a Customer"),
        ] {
            let req = request(&c, path, verb, who, args);
            let r = app.send_full(req).await;
            c.check(path, verb, how, &r);
        }
        // An unreadable Content-Type, and a body over 4 MiB, where a request is read.
        let op = c.operation(path, verb).clone();
        let reads = op.get("requestBody").is_some()
            || op["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
        if reads {
            let uri = filled(path, Args::Known);
            for (ct, body, how) in [
                (
                    "application/x-unknown",
                    b"x=1".to_vec(),
                    "unreadable Content-Type",
                ),
                (
                    "application/json",
                    vec![b' '; 4 * 1024 * 1024 + 1],
                    "a 4 MiB body",
                ),
            ] {
                let req = Request::builder()
                    .method(verb.to_ascii_uppercase().as_str())
                    .uri(&uri)
                    .header("authorization", format!("Bearer {admin}"))
                    .header("content-type", ct)
                    .body(Body::from(body))
                    .unwrap();
                let r = app.send_full(req).await;
                c.check(path, verb, how, &r);
            }
        }
    }
    // Verbs a path does not have: 405 with Allow.
    let paths: BTreeSet<String> = ops.iter().map(|(p, _)| p.clone()).collect();
    for path in &paths {
        let verbs = c.verbs(path);
        for verb in ["get", "post", "put", "delete", "patch", "options"] {
            // ServiceStack's pre-defined routes answer more verbs than the document shows.
            let predefined = path.strip_prefix("/api/").and_then(routes::operation);
            let served = predefined
                .is_some_and(|r| r.api_verbs().iter().any(|v| v.eq_ignore_ascii_case(verb)));
            if served || verbs.iter().any(|v| v == verb) {
                continue;
            }
            let req = Request::builder()
                .method(verb.to_ascii_uppercase().as_str())
                .uri(filled(path, Args::Known))
                .header("authorization", format!("Bearer {admin}"))
                .body(Body::empty())
                .unwrap();
            let r = app.send_full(req).await;
            assert_eq!(
                r.reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{verb} {path}"
            );
            c.check(path, verb, "another verb", &r);
        }
    }
    // Too many sign-ins.
    for _ in 0..12 {
        let req = request(&c, "/auth/credentials", "post", Who::Anonymous, Args::Known);
        let r = app.send_full(req).await;
        c.check("/auth/credentials", "post", "sign-in after sign-in", &r);
    }
    // The store out of service.
    app.db.pool.close().await;
    for (path, verb) in &ops {
        let req = request(&c, path, verb, Who::Key(&admin), Args::Known);
        let r = app.send_full(req).await;
        c.check(path, verb, "store closed", &r);
    }

    let statuses: BTreeSet<u16> = c.seen.keys().map(|(_, s)| *s).collect();
    for s in [200, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 503] {
        assert!(statuses.contains(&s), "no answer was {s}: {statuses:?}");
    }
    // Every operation that needs a sign-in was answered in at least three different ways.
    for (path, verb) in &ops {
        let op = format!("{verb} {path}");
        let n = c.seen.keys().filter(|(o, _)| *o == op).count();
        let public = c.operation(path, verb)["security"] == json!([]);
        assert!(n >= 3 || public, "{op}: only {n} statuses");
    }
    eprintln!(
        "openapi: {} operations, {} answers, {} (operation, status) pairs, statuses {statuses:?}",
        ops.len(),
        c.seen.values().sum::<usize>(),
        c.seen.len()
    );
}

on_both_backends!(every_answer_is_documented);
