//! The dashboard (`web/`): build into `dist/`, its test suites, screenshots and benchmark.
//!
//! Build: `cargo build` of the cdylib for wasm32 (the small-over-fast profile of the npm build),
//! `wasm-bindgen --target web`, `wasm-opt -Oz` (npm's binaryen, first on PATH), then every asset
//! gets its content hash in its name (`dist/assets/<name>-<hash>.<ext>`) and `dist/index.html` is
//! the root `index.html` with those names filled in. Hashed names are what lets the server send
//! `immutable` for assets and `no-cache` for index.html.

use std::path::{Path, PathBuf};

use crate::build::WASM_PROFILE_ENV;
use crate::util::{self, cmd, run, run_tee};

/// FNV-1a, 64 bits: stable across Rust versions (the std hasher is not promised to be).
fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `bytes` as `assets/<stem>-<hash>.<ext>`; returns the public path.
fn emit(assets: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<String, String> {
    let name = format!("{stem}-{}.{ext}", content_hash(bytes));
    std::fs::write(assets.join(&name), bytes).map_err(|e| format!("cannot write {name}: {e}"))?;
    Ok(format!("/assets/{name}"))
}

/// Comments out, whitespace runs collapsed, no space around `{`, `}`, `;`, `,` or after `:`
/// (strings in this stylesheet hold no such characters).
fn minify_css(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    text.push_str(rest);
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        let joins = |c: char| matches!(c, '{' | '}' | ';' | ',' | ':');
        let glue = out.ends_with(joins) || word.starts_with(['{', '}', ';', ',']);
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.replace(";}", "}")
}

/// Comment lines and indentation out of generated JavaScript. Lines stay lines (no automatic
/// semicolon insertion changes); wasm-bindgen's glue has comments only on lines of their own,
/// which [`build`] checks.
fn minify_js(js: &str) -> Result<String, String> {
    let mut out = String::with_capacity(js.len());
    let mut in_block = false;
    for line in js.lines() {
        let t = line.trim();
        if in_block {
            in_block = !t.contains("*/");
            continue;
        }
        if t.starts_with("/*") {
            in_block = !t.contains("*/");
            continue;
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        if t.contains("/*") || t.contains("*/") {
            return Err(format!("a comment inside a line of JavaScript: {t}"));
        }
        out.push_str(t);
        out.push('\n');
    }
    Ok(out)
}

/// `<!-- … -->` out (the source's notes are not for the browser).
fn strip_html_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("-->").map_or("", |j| &rest[i + j + 3..]);
    }
    out.push_str(rest);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a build produced, for the size report.
pub struct Built {
    pub dist: PathBuf,
    pub files: Vec<(String, u64)>,
}

/// Builds the dashboard into `dist/`.
pub fn build() -> Result<Built, String> {
    let root = util::root();
    // Its own target directory: `--cfg erase_components` (Leptos' type-erased views: 13% less
    // wasm) must not invalidate the other wasm32 builds sharing target/.
    let target_dir = root.join("target/web-wasm");
    // Panic locations name source files; short names are bytes the browser does not download.
    let home = std::env::var("CARGO_HOME")
        .or_else(|_| std::env::var("HOME").map(|h| format!("{h}/.cargo")))
        .unwrap_or_default();
    let rustflags = format!(
        "--cfg erase_components --remap-path-prefix={home}/registry/src/= --remap-path-prefix={}/=",
        root.display()
    );
    let mut c = cmd("cargo");
    c.env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", rustflags);
    c.args([
        "build",
        "-p",
        "evo-billing-web",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
    ]);
    for (k, v) in WASM_PROFILE_ENV {
        c.env(k, v);
    }
    run(&mut c)?;
    let out = root.join("target/web-bindgen");
    let _ = std::fs::remove_dir_all(&out);
    run(cmd("wasm-bindgen")
        .arg(target_dir.join("wasm32-unknown-unknown/release/evo_billing_web.wasm"))
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "evo_billing_web",
        ])
        .arg("--out-dir")
        .arg(&out))?;
    let wasm = out.join("evo_billing_web_bg.wasm");
    let opt = out.join("evo_billing_web_bg.opt.wasm");
    run(cmd("wasm-opt")
        .args(["-Oz", "--converge"])
        .arg(&wasm)
        .arg("-o")
        .arg(&opt))?;

    let dist = root.join("dist");
    let assets = dist.join("assets");
    let _ = std::fs::remove_dir_all(&assets);
    std::fs::create_dir_all(&assets).map_err(|e| format!("cannot create dist/assets: {e}"))?;

    let wasm_path = emit(&assets, "evo_billing_web_bg", "wasm", &read_bytes(&opt)?)?;
    let js = minify_js(&util::read(&out.join("evo_billing_web.js"))?)?;
    let js_path = emit(&assets, "evo_billing_web", "js", js.as_bytes())?;
    let css = minify_css(&util::read(&root.join("web/style.css"))?);
    let css_path = emit(&assets, "style", "css", css.as_bytes())?;
    let fill = |text: &str, boot: Option<&str>| -> String {
        let mut t = text
            .replace("/assets/evo_billing_web_bg.wasm", &wasm_path)
            .replace("/assets/evo_billing_web.js", &js_path)
            .replace("/assets/style.css", &css_path);
        if let Some(b) = boot {
            t = t.replace("/assets/boot.js", b);
        }
        t
    };
    let boot = minify_js(&fill(&util::read(&root.join("web/boot.js"))?, None))?;
    let boot_path = emit(&assets, "boot", "js", boot.as_bytes())?;
    let index = strip_html_comments(&fill(
        &util::read(&root.join("index.html"))?,
        Some(&boot_path),
    ));
    if index.contains("/assets/boot.js") || index.contains("/assets/style.css") {
        return Err("index.html still names an unhashed asset".into());
    }
    util::write(&dist.join("index.html"), &index)?;

    let mut files = vec![("index.html".to_string(), index.len() as u64)];
    for p in [&js_path, &wasm_path, &css_path, &boot_path] {
        let name = p.trim_start_matches('/').to_string();
        let len = std::fs::metadata(dist.join(&name))
            .map(|m| m.len())
            .unwrap_or(0);
        files.push((name, len));
    }
    // A gzip -9 copy of each (`name.gz`), which the server sends as is to clients that accept
    // gzip instead of compressing the files on every cold load.
    for (name, _) in &files {
        run(cmd("gzip")
            .args(["-9", "-n", "-k", "-f"])
            .arg(dist.join(name)))?;
    }
    let total: u64 = files.iter().map(|(_, n)| n).sum();
    eprintln!(
        "xtask: dist/ built: {} ({total} bytes before compression)",
        files
            .iter()
            .map(|(n, l)| format!("{n} {l}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Built { dist, files })
}

/// The dashboard's npm test tools (playwright-core, axe-core), from tests/e2e/package-lock.json.
fn ensure_e2e_tools() -> Result<(), String> {
    let dir = util::root().join("tests/e2e");
    if dir.join("node_modules/playwright-core").exists()
        && dir.join("node_modules/axe-core").exists()
    {
        return Ok(());
    }
    run(cmd("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir))
}

/// The debug server binary that `cargo test --workspace` builds (the e2e tests start it).
fn server_bin() -> Result<PathBuf, String> {
    run(cmd("cargo").args(["build", "-p", "evo-billing-server"]))?;
    Ok(util::root().join("target/debug/evo-billing-server"))
}

/// The component tests (wasm-bindgen-test in headless Chromium).
pub fn component_tests() -> Result<(bool, String), String> {
    run_tee(
        cmd("cargo")
            .args([
                "test",
                "-p",
                "evo-billing-web",
                "--target",
                "wasm32-unknown-unknown",
                "--lib",
            ])
            .env("WASM_BINDGEN_USE_BROWSER", "1"),
    )
}

/// The release server binary (what `cargo xtask serve` runs), for the benchmark.
fn release_server_bin() -> Result<PathBuf, String> {
    run(cmd("cargo").args(["build", "--release", "-p", "evo-billing-server"]))?;
    Ok(util::root().join("target/release/evo-billing-server"))
}

/// A node script of tests/e2e against a fresh server with demo data and the built dist/.
fn node_e2e(args: &[&str], env: &[(&str, String)]) -> Result<(bool, String), String> {
    node_e2e_with(server_bin()?, args, env)
}

fn node_e2e_with(
    bin: PathBuf,
    args: &[&str],
    env: &[(&str, String)],
) -> Result<(bool, String), String> {
    ensure_e2e_tools()?;
    let mut c = cmd("node");
    c.args(args)
        .env("EVO_BILLING_SERVER_BIN", &bin)
        .env("EVO_BILLING_DIST", util::root().join("dist"));
    for (k, v) in env {
        c.env(k, v);
    }
    run_tee(&mut c)
}

/// The end-to-end suite (node --test, playwright-core + axe-core in headless Chromium).
pub fn e2e_tests(full: bool) -> Result<(bool, String), String> {
    build()?;
    node_e2e(
        &[
            "--test",
            "--test-reporter=tap",
            "--test-concurrency=1",
            "tests/e2e/dashboard.e2e.mjs",
        ],
        &[("EVO_BILLING_E2E_FULL", if full { "1" } else { "0" }.into())],
    )
}

/// `cargo xtask screenshots`: every main page at 1280 and 390 px into docs/screenshots/.
pub fn screenshots() -> Result<(), String> {
    build()?;
    let (ok, _) = node_e2e(
        &["tests/e2e/screenshots.mjs"],
        &[(
            "EVO_BILLING_SCREENSHOTS",
            util::root().join("docs/screenshots").display().to_string(),
        )],
    )?;
    if ok {
        Ok(())
    } else {
        Err("screenshots failed".into())
    }
}

/// `cargo xtask bench web`: sizes and timings, as the Markdown section of docs/BENCHMARKS.md.
pub fn bench() -> Result<String, String> {
    let built = build()?;
    let files: Vec<String> = built
        .files
        .iter()
        .map(|(n, _)| built.dist.join(n).display().to_string())
        .collect();
    let out = util::root().join("target/web-bench.md");
    let _ = std::fs::remove_file(&out);
    let (ok, _) = node_e2e_with(
        release_server_bin()?,
        &["tests/e2e/bench.mjs"],
        &[
            ("EVO_BILLING_BENCH_FILES", files.join("\n")),
            ("EVO_BILLING_BENCH_OUT", out.display().to_string()),
        ],
    )?;
    if !ok {
        return Err("bench web failed".into());
    }
    util::read(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_minifies_without_changing_meaning() {
        let css = "/* c */\na:focus-visible, b {\n  color: red;\n  margin: 0 auto;\n}\n@media (max-width: 760px) { .x + .y::before { content: \"/\"; } }\n";
        assert_eq!(
            minify_css(css),
            "a:focus-visible,b{color:red;margin:0 auto}@media (max-width:760px){.x + .y::before{content:\"/\"}}"
        );
    }

    #[test]
    fn js_loses_comment_lines_and_indentation_only() {
        let js = "/**\n * doc\n */\nexport function f(a) {\n    // note\n    return a;\n}\n";
        assert_eq!(
            minify_js(js).unwrap(),
            "export function f(a) {\nreturn a;\n}\n"
        );
        assert!(minify_js("let a = 1; /* inline */").is_err());
    }

    #[test]
    fn html_comments_go() {
        assert_eq!(strip_html_comments("<a>\n  <!-- note -->\n<b>"), "<a>\n<b>");
        assert_eq!(content_hash(b"abc"), content_hash(b"abc"));
        assert_ne!(content_hash(b"abc"), content_hash(b"abd"));
    }
}
