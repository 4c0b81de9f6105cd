//! Resolving key references in scenarios: inline PEM, `builtin:NAME`, or a file path.
//!
//! Built-in keys are the test-only pairs under `fixtures/keys/`, compiled in so the binary
//! works from any directory (and in a container) without the repository: the demo merchant's
//! here, each platform's in its provider.

use std::path::Path;

use super::section::BuiltinKey;

/// Which half of a key pair a reference must name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRole {
    Public,
    Private,
}

/// The demo merchant's test-only key pair, for scenarios' merchants (providers ship their
/// platforms' own pairs).
pub const DEMO_MERCHANT: BuiltinKey = BuiltinKey {
    name: "demo-merchant",
    private_pem: include_str!("../../fixtures/keys/demo-merchant.test-only.pem"),
    public_pem: include_str!("../../fixtures/keys/demo-merchant.pub.pem"),
};

/// Why a key reference cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unknown built-in key `{name}`; known: {known}")]
    UnknownBuiltin { name: String, known: String },
    #[error(
        "`{0}` is a file path, but this scenario has no directory to resolve it against; inline the PEM or use builtin:NAME"
    )]
    NoDirectory(String),
    #[error("cannot read key file {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("expected a PEM block whose type ends in `{0}`")]
    WrongRole(&'static str),
}

/// Resolves `reference` to PEM text of the given role, or says why it cannot.
/// `builtin` lists the built-in pairs `builtin:NAME` may name.
pub fn resolve(
    reference: &str,
    role: KeyRole,
    base_dir: Option<&Path>,
    builtin: &[BuiltinKey],
) -> Result<String, KeyError> {
    let pem = if reference.trim_start().starts_with("-----BEGIN") {
        reference.to_owned()
    } else if let Some(name) = reference.strip_prefix("builtin:") {
        let key = builtin.iter().find(|k| k.name == name).ok_or_else(|| {
            let known: Vec<_> = builtin.iter().map(|k| k.name).collect();
            KeyError::UnknownBuiltin {
                name: name.to_owned(),
                known: known.join(", "),
            }
        })?;
        match role {
            KeyRole::Public => key.public_pem.to_owned(),
            KeyRole::Private => key.private_pem.to_owned(),
        }
    } else {
        let Some(base_dir) = base_dir else {
            return Err(KeyError::NoDirectory(reference.to_owned()));
        };
        let path = base_dir.join(reference);
        std::fs::read_to_string(&path).map_err(|source| KeyError::Unreadable {
            path: path.display().to_string(),
            source,
        })?
    };
    let wanted = match role {
        KeyRole::Public => "PUBLIC KEY",
        KeyRole::Private => "PRIVATE KEY",
    };
    if pem.contains(&format!("{wanted}-----")) {
        Ok(pem)
    } else {
        Err(KeyError::WrongRole(wanted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_keys_resolve_by_role() {
        let public = resolve(
            "builtin:demo-merchant",
            KeyRole::Public,
            None,
            &[DEMO_MERCHANT],
        )
        .unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        let private = resolve(
            "builtin:demo-merchant",
            KeyRole::Private,
            None,
            &[DEMO_MERCHANT],
        )
        .unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn wrong_role_unknown_name_and_pathless_files_are_refused() {
        let public = resolve(
            "builtin:demo-merchant",
            KeyRole::Public,
            None,
            &[DEMO_MERCHANT],
        )
        .unwrap();
        assert!(
            resolve(&public, KeyRole::Private, None, &[])
                .unwrap_err()
                .to_string()
                .contains("PRIVATE KEY")
        );
        assert!(
            resolve("builtin:nope", KeyRole::Public, None, &[DEMO_MERCHANT])
                .unwrap_err()
                .to_string()
                .contains("unknown built-in key")
        );
        assert!(
            resolve("keys/x.pem", KeyRole::Public, None, &[])
                .unwrap_err()
                .to_string()
                .contains("no directory")
        );
    }
}
