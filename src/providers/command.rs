//! Providers' own command-line tools (`issuer-sandbox PROVIDER ...`, such as an envelope's
//! seal and open): the subcommand a provider contributes ([`ProviderCommand`]), and what such
//! tools read — keys (a PEM file, or a built-in test key), JSON input (a file, or standard
//! input) — and a default request number.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::scenario::keys::{DEMO_MERCHANT, KeyRole, KeySource, resolve};
use crate::scenario::section::BuiltinKey;

/// What runs a provider's subcommand with its matched arguments.
pub type ToolRun = dyn Fn(&clap::ArgMatches) -> anyhow::Result<std::process::ExitCode>;

/// A provider's subcommand of `issuer-sandbox`.
pub struct ProviderCommand {
    /// The subcommand, named after the provider, with its arguments.
    pub command: clap::Command,
    /// Runs it with its matched arguments.
    pub run: Box<ToolRun>,
    /// Example lines for `issuer-sandbox --help`.
    pub examples: &'static str,
}

impl std::fmt::Debug for ProviderCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProviderCommand({})", self.command.get_name())
    }
}

impl ProviderCommand {
    /// `issuer-sandbox NAME ...` with the subcommands of `T`, which `run` carries out.
    pub fn new<T: clap::Subcommand + clap::FromArgMatches + 'static>(
        name: &'static str,
        about: &'static str,
        examples: &'static str,
        run: fn(T) -> anyhow::Result<std::process::ExitCode>,
    ) -> ProviderCommand {
        let command = clap::Command::new(name)
            .about(about)
            .subcommand_required(true);
        ProviderCommand {
            command: T::augment_subcommands(command),
            run: Box::new(move |matches| run(T::from_arg_matches(matches)?)),
            examples,
        }
    }
}

/// The PEM at `path`, or the built-in key `builtin`.
pub fn key(path: Option<&PathBuf>, builtin: BuiltinKey, role: KeyRole) -> anyhow::Result<String> {
    let reference = match path {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => format!("builtin:{}", builtin.name),
    };
    Ok(resolve(
        &reference,
        role,
        &KeySource::default(),
        &[builtin],
    )?)
}

/// The keys a merchant seals and opens with: files, or the built-in test keys.
#[derive(Debug, clap::Args)]
pub struct KeyFiles {
    /// The merchant's private key (PEM); default: the built-in demo merchant's.
    #[arg(long, value_name = "FILE")]
    merchant_key: Option<PathBuf>,
    /// The platform's public key (PEM); default: the provider's built-in platform key.
    #[arg(long, value_name = "FILE")]
    platform_key: Option<PathBuf>,
}

impl KeyFiles {
    /// The merchant's private key and the platform's public key: the files given, or the demo
    /// merchant's and the built-in `platform` pair's.
    pub fn pems(&self, platform: BuiltinKey) -> anyhow::Result<(String, String)> {
        Ok((
            key(self.merchant_key.as_ref(), DEMO_MERCHANT, KeyRole::Private)?,
            key(self.platform_key.as_ref(), platform, KeyRole::Public)?,
        ))
    }
}

/// `open --as-platform`: open a request as the platform would, with its private key.
#[derive(Debug, clap::Args)]
pub struct AsPlatform {
    /// Open a request as the platform would (with --platform-private-key).
    #[arg(long)]
    as_platform: bool,
    /// The platform's private key (PEM), for --as-platform; default: the built-in one.
    #[arg(long, value_name = "FILE")]
    platform_private_key: Option<PathBuf>,
}

impl AsPlatform {
    /// The platform's private key when a request is to be opened, or `None` for a response.
    pub fn key(&self, platform: BuiltinKey) -> anyhow::Result<Option<String>> {
        if !self.as_platform {
            return Ok(None);
        }
        let path = self.platform_private_key.as_ref();
        Ok(Some(key(path, platform, KeyRole::Private)?))
    }
}

/// The text of `path`; standard input for `-` or no path.
pub fn read_input(path: Option<&PathBuf>) -> anyhow::Result<String> {
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
pub fn default_request_no() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{}{:06}",
        now.strftime("%Y%m%d%H%M%S"),
        now.subsec_microsecond()
    )
}
