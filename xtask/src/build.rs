//! Building the npm package `evo-billing` into pkg/.
//!
//! wasm-pack builds the cdylib shim crate `npm/` (which links evo-billing-core with its `js`
//! feature) for `--target web`, runs wasm-bindgen (the CLI on PATH, same version as Cargo.lock,
//! never downloaded: `--mode no-install`) and wasm-opt -Oz (npm's binaryen, first on PATH). Then
//! this module writes what wasm-pack does not: the package.json with an `exports` map (Node ESM
//! gets `node.mjs`, which instantiates the wasm synchronously from the file; browsers and bundlers
//! get the web build with its `init()`), the Node entry, and the README.

use crate::util::{self, cmd, run};

/// Cargo profile overrides for the WebAssembly build: small over fast (native builds keep the
/// speed-tuned `release` profile of the workspace).
pub const WASM_PROFILE_ENV: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z"),
    ("CARGO_PROFILE_RELEASE_LTO", "true"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
    ("CARGO_PROFILE_RELEASE_PANIC", "abort"),
];

fn workspace_version() -> String {
    let toml = util::read(&util::root().join("Cargo.toml")).unwrap_or_default();
    toml.lines()
        .find_map(|l| l.trim().strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "0.0.0".into())
}

/// Builds pkg/.
pub fn package() -> Result<(), String> {
    let root = util::root();
    let mut c = cmd("wasm-pack");
    c.args([
        "build",
        "npm",
        "--release",
        "--target",
        "web",
        "--out-dir",
        "../pkg",
        "--out-name",
        "evo_billing",
        "--mode",
        "no-install",
        "--no-pack",
    ]);
    for (k, v) in WASM_PROFILE_ENV {
        c.env(k, v);
    }
    // wasm-pack writes its own package.json; ours replaces it below.
    run(&mut c)?;
    let pkg = root.join("pkg");
    let version = workspace_version();
    util::write(&pkg.join("package.json"), &package_json(&version))?;
    util::write(&pkg.join("node.mjs"), NODE_ENTRY)?;
    util::write(&pkg.join("node.d.ts"), NODE_TYPES)?;
    let readme = util::read(&root.join("npm/README.md"))?;
    util::write(&pkg.join("README.md"), &readme)?;
    let _ = std::fs::remove_file(pkg.join(".gitignore"));
    let wasm = std::fs::metadata(pkg.join("evo_billing_bg.wasm"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!("xtask: pkg/ built (evo-billing {version}, wasm {wasm} bytes)");
    Ok(())
}

fn package_json(version: &str) -> String {
    format!(
        r#"{{
  "name": "evo-billing",
  "version": "{version}",
  "description": "Typed client and billing rules (validation, date ranges, exact money, aggregation, JSV) for the Evo Voice billing API, in WebAssembly with TypeScript types.",
  "license": "MIT",
  "type": "module",
  "keywords": ["billing", "telephony", "servicestack", "twilio", "usage", "webassembly"],
  "engines": {{ "node": ">=18" }},
  "main": "./node.mjs",
  "module": "./evo_billing.js",
  "browser": "./evo_billing.js",
  "types": "./evo_billing.d.ts",
  "exports": {{
    ".": {{
      "node": {{ "types": "./node.d.ts", "default": "./node.mjs" }},
      "types": "./evo_billing.d.ts",
      "browser": "./evo_billing.js",
      "default": "./evo_billing.js"
    }},
    "./evo_billing_bg.wasm": "./evo_billing_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [
    "evo_billing_bg.wasm",
    "evo_billing_bg.wasm.d.ts",
    "evo_billing.js",
    "evo_billing.d.ts",
    "node.mjs",
    "node.d.ts",
    "README.md"
  ],
  "sideEffects": ["./node.mjs"]
}}
"#
    )
}

const NODE_ENTRY: &str = r#"// Node entry of evo-billing: the WebAssembly module is instantiated synchronously from the
// package's own file, so `import { ... } from "evo-billing"` is ready to use at once.
import { readFileSync } from "node:fs";
import { initSync } from "./evo_billing.js";

initSync({ module: readFileSync(new URL("./evo_billing_bg.wasm", import.meta.url)) });

export * from "./evo_billing.js";

/** Already initialised in Node; kept so code written for browsers (`await init()`) runs as is. */
export default async function init() {}
"#;

const NODE_TYPES: &str = r#"export * from "./evo_billing.js";
/** Already initialised in Node; kept so code written for browsers (`await init()`) runs as is. */
export default function init(): Promise<void>;
"#;
