//! What the envelope commands read: keys (a PEM file, or a built-in test key) and JSON input
//! (a file, or standard input), and a default request number.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::scenario::keys::{KeyRole, resolve};

/// The PEM at `path`, or the built-in key `builtin` (`builtin:demo-merchant`).
pub(super) fn key(path: Option<&PathBuf>, builtin: &str, role: KeyRole) -> anyhow::Result<String> {
    let reference = match path {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => builtin.to_owned(),
    };
    resolve(&reference, role, None).map_err(anyhow::Error::msg)
}

/// The merchant's private key and the platform's public key: the files given, or the demo
/// merchant's and `platform` (a built-in key name).
pub(super) fn merchant_and_platform(
    merchant: Option<&PathBuf>,
    platform: Option<&PathBuf>,
    platform_builtin: &str,
) -> anyhow::Result<(String, String)> {
    Ok((
        key(merchant, "builtin:demo-merchant", KeyRole::Private)?,
        key(platform, platform_builtin, KeyRole::Public)?,
    ))
}

/// The text of `path`; standard input for `-` or no path.
pub(super) fn read_input(path: Option<&PathBuf>) -> anyhow::Result<String> {
    match path {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Ok(text)
        }
    }
}

/// `yyyyMMddHHmmss` plus six digits of the sub-second time: unique enough for a person typing.
pub(super) fn default_request_no() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{}{:06}",
        now.strftime("%Y%m%d%H%M%S"),
        now.subsec_microsecond()
    )
}
