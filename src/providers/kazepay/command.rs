//! `issuer-sandbox kazepay seal|open`: the KazePay envelope from the command line, for the
//! developer whose own implementation disagrees with the sandbox.

/// Example lines for `issuer-sandbox --help`.
pub const EXAMPLES: &str = "  echo '{\"cardID\":\"3377\"}' | issuer-sandbox kazepay seal --api-code queryCard > request.json
  curl -s http://127.0.0.1:8080/kazepay -d @request.json | issuer-sandbox kazepay open";

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::client::{Client, DEMO_SYS_ID};
use super::envelope::{KeyWrap, Profile};
use crate::crypto::rsa::SignatureHash;
use crate::providers::command::{AsPlatform, KeyFiles, default_request_no, read_input};

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Plaintext JSON body → a ready request envelope (merchant signs, platform key wraps).
    Seal(SealArgs),
    /// A response envelope → its head and decrypted body; with --as-platform, a request.
    Open(OpenArgs),
}

#[derive(Debug, Args)]
pub struct Keys {
    #[command(flatten)]
    files: KeyFiles,
    /// The merchant's sysId.
    #[arg(long, default_value = DEMO_SYS_ID)]
    sys_id: String,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    /// head.apiCode, e.g. queryCard.
    #[arg(long)]
    api_code: String,
    /// head.requestNo; default: the time and a counter.
    #[arg(long)]
    request_no: Option<String>,
    #[command(flatten)]
    keys: Keys,
    /// Hash of the signature.
    #[arg(long, value_enum, default_value_t = Hash::Sha256)]
    hash: Hash,
    /// How the AES key goes into keyEnc.
    #[arg(long, value_enum, default_value_t = Wrap::Raw)]
    key_wrap: Wrap,
    /// The plaintext body (JSON); `-` or nothing reads standard input.
    input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    keys: Keys,
    #[command(flatten)]
    platform: AsPlatform,
    /// The envelope (JSON); `-` or nothing reads standard input.
    input: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Hash {
    #[value(name = "SHA-256")]
    Sha256,
    #[value(name = "SHA-1")]
    Sha1,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Wrap {
    Raw,
    Base64,
}

pub fn run(command: ToolCommand) -> anyhow::Result<ExitCode> {
    match command {
        ToolCommand::Seal(args) => {
            let profile = Profile {
                hash: match args.hash {
                    Hash::Sha256 => SignatureHash::Sha256,
                    Hash::Sha1 => SignatureHash::Sha1,
                },
                key_wrap: match args.key_wrap {
                    Wrap::Raw => KeyWrap::Raw,
                    Wrap::Base64 => KeyWrap::Base64,
                },
            };
            let mut client = client(&args.keys)?.with_profile(profile);
            let body: Value = serde_json::from_str(&read_input(args.input.as_ref())?)
                .context("the body is not JSON")?;
            let request_no = args.request_no.unwrap_or_else(default_request_no);
            let envelope = client.seal_request(&args.api_code, &request_no, &body)?;
            println!("{}", serde_json::to_string_pretty(&envelope)?);
            Ok(ExitCode::SUCCESS)
        }
        ToolCommand::Open(args) => {
            let client = client(&args.keys)?;
            let envelope: Value = serde_json::from_str(&read_input(args.input.as_ref())?)
                .context("the envelope is not JSON")?;
            let opened = match args.platform.key(super::PLATFORM)? {
                Some(pem) => client.open_request_as_platform(&envelope, &pem)?,
                None => client.open_response(&envelope)?,
            };
            let shown = json!({ "head": opened.head, "code": opened.code, "detail": opened.detail, "body": opened.body });
            println!("{}", serde_json::to_string_pretty(&shown)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn client(keys: &Keys) -> anyhow::Result<Client> {
    let (merchant, platform) = keys.files.pems(super::PLATFORM)?;
    Ok(Client::from_pems(
        &keys.sys_id,
        &merchant,
        &platform,
        Profile::default(),
    )?)
}
