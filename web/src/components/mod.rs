//! Pieces the pages share: data loading that keeps old data visible, the layout (header, nav,
//! who is signed in, account and range pickers), SVG charts, error notices, CSV export.

pub mod charts;
pub mod error;
pub mod export;
pub mod fetch;
pub mod layout;
