//! Accounts and customers over HTTP: ListAccounts and ListCustomers per role (a Customer sees its
//! subtree only), paging and filters; CreateAccount / UpdateAccount (administrators);
//! CreateCustomer / UpdateCustomer (administrators and the account's managers), moves that keep
//! paths and breadcrumbs consistent, cycles refused; the `create-account`, `import-customers`
//! and `check` commands of the binary.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn list_accounts_per_role(backend: Backend) {
    let app = TestApp::new(backend).await;
    for (user, want) in [
        (ADMIN, vec!["acc-a", "acc-b"]),
        (MANAGER_A, vec!["acc-a"]),
        (MANAGER_B, vec!["acc-b"]),
        (CUSTOMER_A2, vec!["acc-a"]),
    ] {
        let t = app.sign_in(user).await;
        let r = app.get("/accounts", Some(&t)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        assert_eq!(ids(&v), want, "{}", user.0);
        assert_eq!(v["totalCount"], json!(want.len()));
    }
    let t = app.sign_in(MANAGER_A).await;
    let v = app.get("/api/ListAccounts", Some(&t)).await.json();
    assert_eq!(
        v["items"][0],
        json!({"id": "acc-a", "name": "Alpha Telecom", "accountSid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "currency": "USD", "homeCountry": "US"})
    );
    assert_eq!(
        app.get("/accounts", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn list_customers_in_tree_order_with_scope(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let r = app.get("/customers?accountId=acc-a", Some(&t)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(ids(&v), ["cus-a1", "cus-a2", "cus-a3", "cus-a4"]);
    assert_eq!(
        v["items"][2],
        json!({"id": "cus-a3", "accountId": "acc-a", "name": "Acme Sales, \"EMEA\"", "parentId": "cus-a2", "breadcrumb": "Acme Holdings / Acme Sales / Acme Sales, \"EMEA\"", "depth": 2})
    );
    assert_eq!(
        (
            v["totalCount"].clone(),
            v["totalPages"].clone(),
            v["hasMorePages"].clone()
        ),
        (json!(4), json!(1), json!(false))
    );
    // Paging, filters.
    let v = app
        .get("/customers?accountId=acc-a&countPerPage=3&page=1", Some(&t))
        .await
        .json();
    assert_eq!(ids(&v), ["cus-a4"]);
    assert_eq!(
        (v["totalPages"].clone(), v["hasMorePages"].clone()),
        (json!(2), json!(false))
    );
    let v = app
        .get("/customers?accountId=acc-a&countPerPage=3", Some(&t))
        .await
        .json();
    assert_eq!(v["hasMorePages"], json!(true));
    let v = app
        .get("/customers?accountId=acc-a&nameFilter=SALES", Some(&t))
        .await
        .json();
    assert_eq!(ids(&v), ["cus-a2", "cus-a3"]);
    let v = app
        .get("/customers?accountId=acc-a&parentId=cus-a1", Some(&t))
        .await
        .json();
    assert_eq!(ids(&v), ["cus-a2"]);
    // Another account: 403; a bad page size: 400.
    let r = app.get("/customers?accountId=acc-b", Some(&t)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get("/customers?accountId=acc-a&countPerPage=0", Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["CountPerPage"]);
    let r = app.get("/customers", Some(&t)).await;
    assert_eq!(r.error_fields(), ["AccountId"]);
    // A Customer sees its own subtree only.
    let c = app.sign_in(CUSTOMER_A2).await;
    let v = app.get("/customers?accountId=acc-a", Some(&c)).await.json();
    assert_eq!(ids(&v), ["cus-a2", "cus-a3"]);
    assert_eq!(v["totalCount"], json!(2));
    let r = app
        .get("/customers?accountId=acc-a&parentId=cus-a4", Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}

/// `fields` leaves out what a caller does not need; the breadcrumbs left out are rebuilt by core's
/// rule (what the dashboard does) exactly as the server writes them, moves and renames included.
async fn list_customers_with_fewer_fields(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    // A move and a rename first, so the stored breadcrumbs are rewritten ones.
    let r = app
        .post_json("/customers/cus-a4", Some(&t), json!({"parentId": "cus-a3"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .post_json(
            "/customers/cus-a2",
            Some(&t),
            json!({"name": "Acme Sales & Care"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let full = app.get("/customers?accountId=acc-a", Some(&t)).await.json();
    let r = app
        .get(
            "/customers?accountId=acc-a&fields=id,name,parentId,depth",
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let lean = r.json();
    assert_eq!(
        lean["items"][2],
        json!({"id": "cus-a3", "name": "Acme Sales, \"EMEA\"", "parentId": "cus-a2", "depth": 2})
    );
    assert_eq!(lean["totalCount"], full["totalCount"]);
    let mut items: Vec<evo_billing_core::dto::CustomerInfo> =
        serde_json::from_value(lean["items"].clone()).unwrap();
    evo_billing_core::dto::CustomerInfo::fill_breadcrumbs(&mut items);
    let rebuilt: Vec<_> = items.iter().map(|c| json!(c.breadcrumb)).collect();
    let stored: Vec<_> = full["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["breadcrumb"].clone())
        .collect();
    assert_eq!(rebuilt, stored);
    assert_eq!(
        stored[3],
        json!("Acme Holdings / Acme Sales & Care / Acme Sales, \"EMEA\" / Globex")
    );
    // Any case, blanks; id and depth always; an unknown field is a 400 on `Fields`.
    let v = app
        .get(
            "/customers?accountId=acc-a&fields=%20ID%20,BreadCrumb",
            Some(&t),
        )
        .await
        .json();
    assert_eq!(
        v["items"][0],
        json!({"id": "cus-a1", "breadcrumb": "Acme Holdings", "depth": 0})
    );
    let r = app
        .get("/customers?accountId=acc-a&fields=id,cost", Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.error_fields(), ["Fields"]);
    assert!(r.text().contains("'cost'"), "{}", r.text());
}

async fn create_and_rename_accounts(backend: Backend) {
    let app = TestApp::new(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let r = app
        .post_json(
            "/accounts",
            Some(&admin),
            json!({"id": "acc-c", "name": "Gamma Voice", "currency": "eur", "homeCountry": "de"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["currency"], json!("EUR"));
    assert_eq!(v["homeCountry"], json!("DE"));
    let sid = v["accountSid"].as_str().unwrap();
    assert!(sid.starts_with("AC") && sid.len() == 34, "{sid}");
    let v = app.get("/accounts", Some(&admin)).await.json();
    assert_eq!(ids(&v), ["acc-a", "acc-b", "acc-c"]);
    // Taken id: 409; bad fields: 400 with each field.
    let r = app
        .post_json(
            "/accounts",
            Some(&admin),
            json!({"id": "acc-c", "name": "Again", "currency": "EUR", "homeCountry": "DE"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = app
        .post_json(
            "/accounts",
            Some(&admin),
            json!({"name": "", "currency": "euros", "homeCountry": "Germany"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["Name", "Currency", "HomeCountry"]);
    // Without an id, one is generated.
    let r = app
        .post_json(
            "/api/CreateAccount",
            Some(&admin),
            json!({"name": "Delta", "currency": "GBP", "homeCountry": "GB"}),
        )
        .await;
    assert!(r.json()["id"].as_str().unwrap().starts_with("acc-"));
    // Only administrators.
    let m = app.sign_in(MANAGER_A).await;
    let r = app
        .post_json(
            "/accounts",
            Some(&m),
            json!({"name": "Mine", "currency": "USD", "homeCountry": "US"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_json("/accounts/acc-a", Some(&m), json!({"name": "Renamed"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Rename.
    let r = app
        .post_json(
            "/accounts/acc-a",
            Some(&admin),
            json!({"name": "Alpha Renamed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], json!("Alpha Renamed"));
    let v = app.get("/accounts", Some(&m)).await.json();
    assert_eq!(v["items"][0]["name"], json!("Alpha Renamed"));
    let r = app
        .post_json("/accounts/acc-zz", Some(&admin), json!({"name": "X"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    // The renamed account still bills the same.
    assert_eq!(app.october_billing(&m).await, fixture_october());
}

/// A tree of 1,200 customers (awkward names and ids: quotes, LIKE's wildcards, non-ASCII, the
/// breadcrumb separator) listed whole and page by page: every page in tree order (each parent
/// before its children, siblings in byte order of their ids), each with the total count, and the
/// pages together are the whole list, field for field.
async fn list_customers_of_a_big_tree_whole_and_paged(backend: Backend) {
    use evo_billing_server::model::Customer;
    let app = TestApp::new(backend).await;
    let mut tree = Vec::new();
    for i in 0..1200u32 {
        // Parents come first: customer i's parent is one of the customers before it.
        let parent = (i % 7 != 0).then(|| format!("big-{}_%", (i * 13) % i.max(1)));
        tree.push(Customer {
            id: format!("big-{i}_%"),
            account_id: "acc-a".into(),
            parent_id: parent,
            name: format!("Kunde «{i}» 'x' / \\ \"q\" 日本 {}", 1200 - i),
        });
    }
    app.ctx.db.accounts().insert_customers(&tree).await.unwrap();
    let t = app.sign_in(MANAGER_A).await;
    let whole = app.get("/customers?accountId=acc-a", Some(&t)).await.json();
    let items = whole["items"].as_array().unwrap().clone();
    assert_eq!(
        items.len(),
        1204,
        "the 4 customers of the fixture and the new 1,200"
    );
    assert_eq!(whole["totalCount"], json!(1204));
    // Tree order: each customer's breadcrumb path (its ancestors' ids) sorts as the list does.
    let mut position = std::collections::HashMap::new();
    let mut paths: Vec<String> = Vec::new();
    for (n, c) in items.iter().enumerate() {
        let id = c["id"].as_str().unwrap();
        position.insert(id.to_string(), n);
        let above = c
            .get("parentId")
            .and_then(Value::as_str)
            .and_then(|p| position.get(p))
            .map_or("/".to_string(), |i| paths[*i].clone());
        paths.push(format!("{above}{id}/"));
        let depth = c["depth"].as_u64().unwrap();
        match c.get("parentId").and_then(Value::as_str) {
            None => assert_eq!(depth, 0, "{c}"),
            Some(p) => {
                let parent = &items[*position.get(p).unwrap_or_else(|| panic!("{p} after {id}"))];
                assert_eq!(depth, parent["depth"].as_u64().unwrap() + 1, "{c}");
                assert_eq!(
                    c["breadcrumb"].as_str().unwrap(),
                    format!(
                        "{} / {}",
                        parent["breadcrumb"].as_str().unwrap(),
                        c["name"].as_str().unwrap()
                    )
                );
            }
        }
        assert_eq!(c["accountId"], json!("acc-a"));
    }
    assert!(paths.windows(2).all(|w| w[0] < w[1]), "not in tree order");
    let new_one = items.iter().find(|c| c["id"] == json!("big-8_%")).unwrap();
    assert_eq!(new_one["name"], json!("Kunde «8» 'x' / \\ \"q\" 日本 1192"));
    let mut paged = Vec::new();
    for page in 0..=12 {
        let v = app
            .get(
                &format!("/customers?accountId=acc-a&countPerPage=100&page={page}"),
                Some(&t),
            )
            .await
            .json();
        assert_eq!(v["totalCount"], json!(1204));
        assert_eq!(v["totalPages"], json!(13));
        assert_eq!(v["hasMorePages"], json!(page < 12));
        paged.extend(v["items"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(paged, items);
    // Filtered and paged: the count is of the matches.
    let v = app
        .get(
            "/customers?accountId=acc-a&nameFilter=%C2%AB11&countPerPage=5&page=1",
            Some(&t),
        )
        .await
        .json();
    let matches: Vec<&Value> = items
        .iter()
        .filter(|c| c["name"].as_str().unwrap().contains("«11"))
        .collect();
    assert_eq!(v["totalCount"], json!(matches.len()));
    assert_eq!(
        v["items"].as_array().unwrap()[..],
        matches[5..10]
            .iter()
            .map(|c| (*c).clone())
            .collect::<Vec<_>>()[..]
    );
    // Past the end: no items, the count still told.
    let v = app
        .get(
            "/customers?accountId=acc-a&countPerPage=100&page=50",
            Some(&t),
        )
        .await
        .json();
    assert_eq!(
        (v["items"].clone(), v["totalCount"].clone()),
        (json!([]), json!(1204))
    );
}

async fn create_customers(backend: Backend) {
    let app = TestApp::new(backend).await;
    let m = app.sign_in(MANAGER_A).await;
    let r = app
        .post_json(
            "/customers",
            Some(&m),
            json!({"accountId": "acc-a", "id": "cus-a5", "name": "Acme Support", "parentId": "cus-a1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"id": "cus-a5", "accountId": "acc-a", "name": "Acme Support", "parentId": "cus-a1", "breadcrumb": "Acme Holdings / Acme Support", "depth": 1})
    );
    let v = app.get("/customers?accountId=acc-a", Some(&m)).await.json();
    assert_eq!(ids(&v), ["cus-a1", "cus-a2", "cus-a3", "cus-a5", "cus-a4"]);
    // A root without id: generated.
    let r = app
        .post_json(
            "/customers",
            Some(&m),
            json!({"accountId": "acc-a", "name": "Initrode"}),
        )
        .await;
    assert!(r.json()["id"].as_str().unwrap().starts_with("cus-"));
    assert_eq!(r.json()["depth"], json!(0));
    // Refused: a taken id (409), a parent elsewhere (400 on ParentId), another account (403),
    // a Customer (403).
    let r = app
        .post_json(
            "/customers",
            Some(&m),
            json!({"accountId": "acc-a", "id": "cus-b1", "name": "Dup"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = app
        .post_json(
            "/customers",
            Some(&m),
            json!({"accountId": "acc-a", "name": "X", "parentId": "cus-b1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["ParentId"]);
    let r = app
        .post_json(
            "/customers",
            Some(&m),
            json!({"accountId": "acc-b", "name": "X"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let c = app.sign_in(CUSTOMER_A2).await;
    let r = app
        .post_json(
            "/customers",
            Some(&c),
            json!({"accountId": "acc-a", "name": "X"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_json("/customers", Some(&m), json!({"accountId": "acc-a"}))
        .await;
    assert_eq!(r.error_fields(), ["Name"]);
}

/// Moving cus-a2 (with its child cus-a3) below cus-a4 rewrites both paths and breadcrumbs at
/// once; the Customer user of cus-a2 keeps seeing exactly its subtree and its billing.
async fn move_and_rename_customers(backend: Backend) {
    let app = TestApp::new(backend).await;
    let m = app.sign_in(MANAGER_A).await;
    let c = app.sign_in(CUSTOMER_A2).await;
    let before = app.get(&format!("/billing?{OCT_A}"), Some(&c)).await.json();
    let r = app
        .post_json("/customers/cus-a2", Some(&m), json!({"parentId": "cus-a4"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["breadcrumb"], json!("Globex / Acme Sales"));
    let v = app.get("/customers?accountId=acc-a", Some(&m)).await.json();
    assert_eq!(ids(&v), ["cus-a1", "cus-a4", "cus-a2", "cus-a3"]);
    let crumbs: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["breadcrumb"].as_str().unwrap())
        .collect();
    assert_eq!(
        crumbs,
        [
            "Acme Holdings",
            "Globex",
            "Globex / Acme Sales",
            "Globex / Acme Sales / Acme Sales, \"EMEA\""
        ]
    );
    assert_eq!(v["items"][3]["depth"], json!(2));
    // The Customer user follows its subtree.
    let v = app.get("/customers?accountId=acc-a", Some(&c)).await.json();
    assert_eq!(ids(&v), ["cus-a2", "cus-a3"]);
    let after = app.get(&format!("/billing?{OCT_A}"), Some(&c)).await.json();
    assert_eq!(before, after);
    // Rename: the descendants' breadcrumbs follow.
    let r = app
        .post_json(
            "/customers/cus-a2",
            Some(&m),
            json!({"name": "Acme Direct"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = app.get("/customers?accountId=acc-a", Some(&m)).await.json();
    assert_eq!(
        v["items"][3]["breadcrumb"],
        json!("Globex / Acme Direct / Acme Sales, \"EMEA\"")
    );
    // Into its own subtree: refused, nothing changed.
    let r = app
        .post_json("/customers/cus-a2", Some(&m), json!({"parentId": "cus-a3"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.error_fields(), ["ParentId"]);
    let r = app
        .post_json("/customers/cus-a4", Some(&m), json!({"parentId": "cus-a3"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Back to the root.
    let r = app
        .post_json(
            "/api/UpdateCustomer",
            Some(&m),
            json!({"customerId": "cus-a2", "makeRoot": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["breadcrumb"], json!("Acme Direct"));
    assert_eq!(r.json().get("parentId"), None);
    // Not for a Customer, not across accounts, not for unknown customers.
    let r = app
        .post_json("/customers/cus-a3", Some(&c), json!({"name": "Mine"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mb = app.sign_in(MANAGER_B).await;
    let r = app
        .post_json("/customers/cus-a3", Some(&mb), json!({"name": "Theirs"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app
        .post_json(
            "/customers/cus-b1",
            Some(&mb),
            json!({"parentId": "cus-a1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = app
        .post_json("/customers/cus-zz", Some(&m), json!({"name": "X"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post_json("/customers/cus-a2", Some(&m), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// The binary: `create-account`, then `import-customers` (parents after children, a bad row:
/// the good rows load, the exit status says rows were rejected), `check`.
async fn customer_commands(backend: Backend) {
    let db = fresh_db(backend).await;
    let exe = env!("CARGO_BIN_EXE_evo-billing-server");
    let run = |args: &[&str]| {
        std::process::Command::new(exe)
            .args(["--database", db.url.as_str()])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "create-account",
        "--id",
        "acc-new",
        "--name",
        "New Telecom",
        "--currency",
        "GBP",
        "--home-country",
        "GB",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created account acc-new"));
    let dir = temp_dir();
    let file = dir.path().join("customers.csv");
    std::fs::write(
        &file,
        "Id,Name,Parent\nn-2,Child,n-1\nn-1,Root,\nn-3,Orphan,nowhere\n\"n-4\",\"Other, Inc.\",\n",
    )
    .unwrap();
    let out = run(&[
        "import-customers",
        file.to_str().unwrap(),
        "--account",
        "acc-new",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a rejected row fails the command");
    assert!(
        stdout.contains("3 loaded, 0 skipped, 1 rejected"),
        "{stdout}"
    );
    assert!(
        stderr.contains("line 4") && stderr.contains("nowhere"),
        "{stderr}"
    );
    let again = run(&[
        "import-customers",
        file.to_str().unwrap(),
        "--account",
        "acc-new",
    ]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 loaded, 3 skipped, 1 rejected"));
    let rows = db.accounts().customers("acc-new", None).await.unwrap();
    let crumbs: Vec<(&str, &str)> = rows
        .iter()
        .map(|c| (c.id.as_str(), c.breadcrumb.as_str()))
        .collect();
    assert_eq!(
        crumbs,
        [
            ("n-1", "Root"),
            ("n-2", "Root / Child"),
            ("n-4", "Other, Inc.")
        ]
    );
    let out = run(&["create-account", "--name", "X", "--currency", "dollars"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Currency"));
    let out = run(&[
        "import-customers",
        file.to_str().unwrap(),
        "--account",
        "acc-none",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account 'acc-none'"));
    let out = run(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

on_both_backends!(
    list_accounts_per_role,
    list_customers_in_tree_order_with_scope,
    list_customers_of_a_big_tree_whole_and_paged,
    list_customers_with_fewer_fields,
    create_and_rename_accounts,
    create_customers,
    move_and_rename_customers,
    customer_commands,
);
