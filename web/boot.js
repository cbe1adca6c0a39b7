// Starts the dashboard: loads the wasm-bindgen module and its WebAssembly (file names are
// content-hashed by `cargo xtask build`), then the app mounts itself. A module file, not an
// inline script, so the Content-Security-Policy needs no 'unsafe-inline'.
import init from "/assets/evo_billing_web.js";

try {
  await init({ module_or_path: "/assets/evo_billing_web_bg.wasm" });
} catch (e) {
  const p = document.createElement("p");
  p.className = "boot-error";
  p.setAttribute("role", "alert");
  p.textContent = `The dashboard could not start: ${e}. Reload the page; if it persists, your browser may lack WebAssembly.`;
  document.body.append(p);
  throw e;
}
