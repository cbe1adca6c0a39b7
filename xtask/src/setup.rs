//! Installing what a fresh machine lacks. Every step checks first, so warm runs cost nothing.

use crate::util::{self, cmd, has, output, run};

/// The `wasm-bindgen` version pinned in Cargo.lock: the CLI must be exactly this version.
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = util::read(&util::root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn ensure_wasm_bindgen() -> Result<(), String> {
    let want = wasm_bindgen_version()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    eprintln!("xtask: installing wasm-bindgen-cli {want} (matches Cargo.lock; ~4 minutes once)");
    // No --locked: its lockfile wants crates newer than this registry mirror has.
    run(cmd("cargo").args(["install", "wasm-bindgen-cli", "--version", &want]))
}

fn ensure_wasm_pack() -> Result<(), String> {
    if has("wasm-pack") {
        return Ok(());
    }
    eprintln!("xtask: installing wasm-pack (~3 minutes once)");
    run(cmd("cargo").args(["install", "wasm-pack", "--locked"]))
}

fn ensure_node() -> Result<(), String> {
    let v = output("node", &["--version"]).ok_or(
        "Node.js is missing: install Node 18 or newer (e.g. `apt-get install -y nodejs npm`)",
    )?;
    let major: u32 = v
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 18 {
        return Err(format!(
            "Node {v} is too old: the package needs Node 18 or newer"
        ));
    }
    Ok(())
}

/// npm tools of the repository (binaryen's wasm-opt, typescript), from package-lock.json.
fn ensure_npm_tools() -> Result<(), String> {
    let root = util::root();
    if root.join("node_modules/.bin/wasm-opt").exists()
        && root.join("node_modules/.bin/tsc").exists()
    {
        return Ok(());
    }
    run(cmd("npm").args(["ci", "--no-audit", "--no-fund"]))
}

/// Chromium and chromedriver for the browser tests.
pub fn ensure_browser() -> Result<(), String> {
    if has("chromedriver") && (has("chromium") || has("chromium-browser")) {
        return Ok(());
    }
    if !util::is_root() {
        return Err("Chromium is missing. Run: sudo apt-get update && sudo apt-get install -y chromium chromium-driver".into());
    }
    run(cmd("apt-get").arg("update").arg("-qq"))?;
    run(cmd("apt-get").args(["install", "-y", "-qq", "chromium", "chromium-driver"]))
}

/// What `cargo xtask build` needs.
pub fn ensure_build_tools() -> Result<(), String> {
    ensure_node()?;
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_pack()?;
    ensure_npm_tools()
}

/// Everything, for `cargo xtask test`.
pub fn ensure_all() -> Result<(), String> {
    ensure_build_tools()?;
    ensure_browser()
}
