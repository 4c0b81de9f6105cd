//! Resolving key references in scenarios: inline PEM, `builtin:NAME`, or a file path.
//!
//! Built-in keys are the test-only pairs under `fixtures/keys/`, compiled in so the binary
//! works from any directory (and in a container) without the repository: the demo merchant's
//! here, each platform's in its provider.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use super::section::BuiltinKey;

/// Where key references that are file paths are read: a directory (a scenario file's), or
/// files given by content (a snapshot carries the key files its scenario read, so it restores
/// anywhere). Remembers what it read, by reference, for the snapshot to carry.
#[derive(Debug, Default)]
pub struct KeySource<'a> {
    dir: Option<&'a Path>,
    given: Option<&'a BTreeMap<String, String>>,
    read: RefCell<BTreeMap<String, String>>,
}

impl<'a> KeySource<'a> {
    /// Files under `dir`, if there is one.
    pub fn in_dir(dir: Option<&'a Path>) -> KeySource<'a> {
        KeySource {
            dir,
            ..KeySource::default()
        }
    }

    /// Only these files, by reference.
    pub fn given(files: &'a BTreeMap<String, String>) -> KeySource<'a> {
        KeySource {
            given: Some(files),
            ..KeySource::default()
        }
    }

    /// PEM text given inline, or the file it names.
    pub fn text(&self, reference: &str) -> Result<String, KeyError> {
        if reference.trim_start().starts_with("-----BEGIN") {
            Ok(reference.to_owned())
        } else {
            self.read(reference)
        }
    }

    fn read(&self, reference: &str) -> Result<String, KeyError> {
        let text = match (self.given, self.dir) {
            (Some(files), _) => files
                .get(reference)
                .cloned()
                .ok_or_else(|| KeyError::NotCarried(reference.to_owned()))?,
            (None, Some(dir)) => {
                let path = dir.join(reference);
                std::fs::read_to_string(&path).map_err(|source| KeyError::Unreadable {
                    path: path.display().to_string(),
                    source,
                })?
            }
            (None, None) => return Err(KeyError::NoDirectory(reference.to_owned())),
        };
        self.read
            .borrow_mut()
            .insert(reference.to_owned(), text.clone());
        Ok(text)
    }

    /// Every file read so far, by reference.
    pub fn read_so_far(&self) -> BTreeMap<String, String> {
        self.read.borrow().clone()
    }
}

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
    #[error("key file `{0}` is not among the files the snapshot carries")]
    NotCarried(String),
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
    files: &KeySource<'_>,
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
        files.read(reference)?
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
            &KeySource::default(),
            &[DEMO_MERCHANT],
        )
        .unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        let private = resolve(
            "builtin:demo-merchant",
            KeyRole::Private,
            &KeySource::default(),
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
            &KeySource::default(),
            &[DEMO_MERCHANT],
        )
        .unwrap();
        assert!(
            resolve(&public, KeyRole::Private, &KeySource::default(), &[])
                .unwrap_err()
                .to_string()
                .contains("PRIVATE KEY")
        );
        assert!(
            resolve(
                "builtin:nope",
                KeyRole::Public,
                &KeySource::default(),
                &[DEMO_MERCHANT]
            )
            .unwrap_err()
            .to_string()
            .contains("unknown built-in key")
        );
        assert!(
            resolve("keys/x.pem", KeyRole::Public, &KeySource::default(), &[])
                .unwrap_err()
                .to_string()
                .contains("no directory")
        );
    }
}
