//! Telling people a report has ended: the signed, SSRF-guarded, retried webhook ([`webhook`]) and
//! the notification email ([`mailer`]).

pub mod mailer;
pub mod webhook;
