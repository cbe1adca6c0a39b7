//! SVG charts drawn by the app: axes with exact tick labels, a title, a `<title>` tooltip per
//! bar, and the same figures as a table beside it, so a chart reads without colour and without
//! sight. Horizontal positions are percentages (the chart fills its box at any width, text stays
//! at its CSS size); vertical positions are pixels.

use std::sync::Arc;

use leptos::prelude::*;

use crate::chart::{bands, label_stride, Scale};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Under the bar (`1 Nov`).
    pub label: String,
    /// The value in the chart's integer unit (micros, calls…).
    pub value: i64,
    /// The value as people read it (`1,234.56 USD`).
    pub value_text: String,
    /// Drawn hatched: an estimate, not a measured figure.
    pub estimate: bool,
}

/// Formats an axis value (in the chart's unit) for a tick label.
pub type TickFormat = Arc<dyn Fn(i64) -> String + Send + Sync>;

const HEIGHT: f64 = 220.0;

/// `v` to one decimal, without the float formatter (which costs the wasm ~10 KB).
fn px(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let t = tenths.unsigned_abs();
    format!("{sign}{}.{}", t / 10, t % 10)
}

/// `v` percent to three decimals.
fn pct(v: f64) -> String {
    let m = (v * 1000.0).round() as i64;
    let sign = if m < 0 { "-" } else { "" };
    let t = m.unsigned_abs();
    format!("{sign}{}.{:03}%", t / 1000, t % 1000)
}
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;

/// Vertical bars over time (or any sequence).
#[component]
pub fn BarChart(
    #[prop(into)] title: String,
    bars: Vec<Bar>,
    /// The smallest tick step (1 cent = 10,000 micros; 1 for counts).
    unit: i64,
    tick_format: TickFormat,
    /// Column headers of the data table: what a label is, what a value is.
    #[prop(into)]
    columns: (String, String),
) -> impl IntoView {
    let scale = Scale::nice(bars.iter().map(|b| b.value), 4, unit);
    let plot = HEIGHT - TOP - BOTTOM;
    let y = |v: i64| TOP + plot - scale.position(v, plot);
    let ticks = scale.ticks();
    let zero_y = y(0.max(scale.min));
    let slots = bands(bars.len(), 100.0, 0.2);
    // Labels for a plot as narrow as a phone's (about 260 px), so they never overlap.
    let stride = label_stride(bars.len(), 260.0, 52.0);
    let summary = format!(
        "{title}: {} values; details in the table below.",
        bars.len()
    );
    let axis_labels = ticks
        .iter()
        .map(|t| {
            let ty = y(*t);
            let text = tick_format(*t);
            view! {
                <text x="100%" dx="-6" y=px(ty + 4.0) text-anchor="end" class="tick">
                    {text}
                </text>
            }
        })
        .collect_view();
    let grid = ticks
        .iter()
        .map(|t| {
            let ty = px(y(*t));
            view! { <line x1="0%" x2="100%" y1=ty.clone() y2=ty class="grid" /> }
        })
        .collect_view();
    let rects = bars
        .iter()
        .zip(slots.iter())
        .enumerate()
        .map(|(i, (b, band))| {
            let top = y(b.value.max(0)).min(zero_y);
            let bottom = y(b.value.min(0)).max(zero_y);
            let h = (bottom - top).max(if b.value != 0 { 1.0 } else { 0.0 });
            let class = if b.estimate { "bar estimate" } else { "bar" };
            let tip = format!(
                "{}: {}{}",
                b.label,
                b.value_text,
                if b.estimate { " (estimate)" } else { "" }
            );
            let label = (i % stride == 0).then(|| {
                view! {
                    <text
                        x=pct(band.start + band.width / 2.0)
                        y=px(HEIGHT - 8.0)
                        text-anchor="middle"
                        class="tick"
                    >
                        {b.label.clone()}
                    </text>
                }
            });
            view! {
                <g>
                    <rect
                        x=pct(band.start)
                        width=pct(band.width)
                        y=px(top)
                        height=px(h)
                        class=class
                    >
                        <title>{tip}</title>
                    </rect>
                    {label}
                </g>
            }
        })
        .collect_view();
    let rows = bars
        .iter()
        .map(|b| {
            view! {
                <tr>
                    <th scope="row">{b.label.clone()}</th>
                    <td class="num">
                        {b.value_text.clone()}
                        {b.estimate.then_some(" (estimate)")}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let (label_col, value_col) = columns;
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <div class="chart-box">
                <svg class="axis" height="220" aria-hidden="true">
                    {axis_labels}
                </svg>
                <svg class="plot" height="220" role="img" aria-label=summary>
                    {grid}
                    <line x1="0%" x2="100%" y1=px(zero_y) y2=px(zero_y) class="baseline" />
                    {rects}
                </svg>
            </div>
            <details>
                <summary>"Show as table"</summary>
                <div class="table-wrap" tabindex="0" role="region" aria-label=format!("{title} (table)")>
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">{label_col}</th>
                                <th scope="col" class="num">{value_col}</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
}

/// One row of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    pub value: i64,
    pub value_text: String,
}

/// Horizontal bars with their label and value written beside them (readable without colour).
#[component]
pub fn RowChart(#[prop(into)] title: String, rows: Vec<Row>) -> impl IntoView {
    let scale = Scale::nice(rows.iter().map(|r| r.value), 4, 1);
    let row_h = 42.0;
    let height = (rows.len() as f64 * row_h).max(row_h);
    let items = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let top = i as f64 * row_h;
            let width = scale.position(r.value.max(0), 100.0);
            let tip = format!("{}: {}", r.label, r.value_text);
            view! {
                <g>
                    <text x="0" y=px(top + 15.0) class="row-label">
                        {r.label.clone()}
                    </text>
                    <text x="100%" y=px(top + 15.0) text-anchor="end" class="row-value">
                        {r.value_text.clone()}
                    </text>
                    <rect x="0" y=px(top + 21.0) width="100%" height="12" class="track" />
                    <rect
                        x="0"
                        y=px(top + 21.0)
                        width=pct(width)
                        height="12"
                        class="bar"
                    >
                        <title>{tip}</title>
                    </rect>
                </g>
            }
        })
        .collect_view();
    let label = format!(
        "{title}: {}",
        rows.iter()
            .map(|r| format!("{} {}", r.label, r.value_text))
            .collect::<Vec<_>>()
            .join("; ")
    );
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg class="rows" height=px(height) role="img" aria-label=label>
                {items}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_bar_chart_draws_axes_bars_with_tooltips_and_a_table() {
        let document = web_sys::window().unwrap().document().unwrap();
        let host = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&host).unwrap();
        let bars = vec![
            Bar {
                label: "1 Nov".into(),
                value: 1_250_000,
                value_text: "1.25 USD".into(),
                estimate: false,
            },
            Bar {
                label: "2 Nov".into(),
                value: 0,
                value_text: "0.00 USD".into(),
                estimate: false,
            },
            Bar {
                label: "3 Nov".into(),
                value: 3_000_000,
                value_text: "3.00 USD".into(),
                estimate: true,
            },
        ];
        let ticks: TickFormat = Arc::new(|v| {
            crate::format::amount(evo_billing_core::money::Micros(v), Default::default())
        });
        let handle = leptos::mount::mount_to(host.clone().unchecked_into(), move || {
            view! {
                <BarChart
                    title="Cost"
                    bars=bars.clone()
                    unit=10_000
                    tick_format=ticks.clone()
                    columns=("Day".to_string(), "Amount".to_string())
                />
            }
        });
        let rects = host.query_selector_all("svg.plot rect.bar").unwrap();
        assert_eq!(rects.length(), 3);
        let tips: Vec<String> = (0..3)
            .map(|i| rects.item(i).unwrap().text_content().unwrap_or_default())
            .collect();
        assert_eq!(
            tips,
            [
                "1 Nov: 1.25 USD",
                "2 Nov: 0.00 USD",
                "3 Nov: 3.00 USD (estimate)"
            ]
        );
        // Axis from 0 to 3.00 in exact steps; the estimate is drawn differently (not by colour).
        let ticks: Vec<String> = {
            let t = host.query_selector_all("svg.axis text").unwrap();
            (0..t.length())
                .map(|i| t.item(i).unwrap().text_content().unwrap_or_default())
                .collect()
        };
        assert_eq!(ticks.first().map(String::as_str), Some("0.00"));
        assert_eq!(ticks.last().map(String::as_str), Some("3.00"));
        assert_eq!(
            host.query_selector_all("rect.bar.estimate")
                .unwrap()
                .length(),
            1
        );
        // The zero bar has no height; the highest reaches the top of the plot.
        let h = |i: u32| {
            rects
                .item(i)
                .unwrap()
                .unchecked_into::<web_sys::Element>()
                .get_attribute("height")
                .unwrap()
        };
        assert_eq!(h(1), "0.0");
        assert_eq!(h(2), "182.0");
        // The same figures as a table.
        let cells = host.query_selector_all("details tbody td").unwrap();
        assert_eq!(cells.length(), 3);
        assert_eq!(
            host.query_selector("figcaption")
                .unwrap()
                .unwrap()
                .text_content()
                .unwrap(),
            "Cost"
        );
        drop(handle);
    }
}
