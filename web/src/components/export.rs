//! CSV export in the browser: core writes the CSV; a Blob and a download link hand it over.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Core's CSV of a table: `columns` are camelCase names (the header is their PascalCase, as
/// ServiceStack writes it), each row one value per column.
pub fn table_csv(columns: &[&str], rows: impl Iterator<Item = Vec<serde_json::Value>>) -> String {
    let objects: Vec<serde_json::Value> = rows
        .map(|cells| {
            serde_json::Value::Object(columns.iter().map(|c| c.to_string()).zip(cells).collect())
        })
        .collect();
    if objects.is_empty() {
        let header: Vec<String> = columns
            .iter()
            .map(|c| evo_billing_core::csv::pascal_case(c))
            .collect();
        return format!("{}\r\n", header.join(","));
    }
    evo_billing_core::csv::value_to_csv(&serde_json::Value::Array(objects))
}

/// An exact amount as the JSON number the API writes (rounded to `decimals` first).
pub fn amount_cell(amount: evo_billing_core::money::Micros, decimals: u32) -> serde_json::Value {
    serde_json::Value::from(amount.round_to(decimals).to_f64())
}

/// Offers `csv` as a file named `file_name`.
pub fn download_text(file_name: &str, csv: &str, mime: &str) -> Result<(), String> {
    let err = |e: wasm_bindgen::JsValue| format!("The file could not be made: {e:?}");
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(csv));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(err)?
        .dyn_into()
        .map_err(|_| "no anchor".to_string())?;
    a.set_href(&url);
    a.set_download(file_name);
    a.set_class_name("hidden");
    if let Some(body) = document.body() {
        let _ = body.append_child(&a);
        a.click();
        let _ = body.remove_child(&a);
    }
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// A button that exports a table: `make_csv` runs on click (core's CSV of what is shown).
#[component]
pub fn ExportCsv(
    #[prop(into)] file_name: Signal<String>,
    make_csv: impl Fn() -> Option<String> + Send + Sync + 'static,
    #[prop(into, optional)] label: Option<String>,
) -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    let label = label.unwrap_or_else(|| "Export CSV".into());
    view! {
        <button
            type="button"
            class="secondary export"
            on:click=move |_| {
                if let Some(csv) = make_csv() {
                    failure.set(download_text(&file_name.get_untracked(), &csv, "text/csv").err());
                }
            }
        >
            {label}
        </button>
        {move || failure.get().map(|f| view! { <span class="notice error" role="alert">{f}</span> })}
    }
}
