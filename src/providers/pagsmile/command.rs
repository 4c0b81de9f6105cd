//! `issuer-sandbox pagsmile seal|open`: the Pagsmile envelope from the command line, for the
//! developer whose own implementation disagrees with the sandbox.

/// Example lines for `issuer-sandbox --help`.
pub const EXAMPLES: &str = "  echo '{\"card_token\":\"CT202611210000000001\"}' | issuer-sandbox pagsmile seal > request.json
  curl -s http://127.0.0.1:8080/issuing/card/query-card-balance -H 'Content-Type: application/json' \\
       -d @request.json | issuer-sandbox pagsmile open";

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::client::{Client, DEMO_APP_ID, DEMO_PARTNER_ID};
use crate::providers::command::{AsPlatform, KeyFiles, default_request_no, read_input};

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Plaintext biz_data JSON → a ready request (its key wrapped for the platform).
    Seal(SealArgs),
    /// A response → its codes and decrypted data; with --as-platform, a request's biz_data.
    Open(OpenArgs),
}

#[derive(Debug, Args)]
pub struct Keys {
    #[command(flatten)]
    files: KeyFiles,
    /// The merchant's app_id.
    #[arg(long, default_value = DEMO_APP_ID)]
    app_id: String,
    /// The merchant's partner_id.
    #[arg(long, default_value = DEMO_PARTNER_ID)]
    partner_id: String,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    /// request_id; default: the time and a counter.
    #[arg(long)]
    request_id: Option<String>,
    #[command(flatten)]
    keys: Keys,
    /// The plaintext biz_data (JSON); `-` or nothing reads standard input.
    input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    keys: Keys,
    #[command(flatten)]
    platform: AsPlatform,
    /// The message (JSON); `-` or nothing reads standard input.
    input: Option<PathBuf>,
}

pub fn run(command: ToolCommand) -> anyhow::Result<ExitCode> {
    match command {
        ToolCommand::Seal(args) => {
            let mut client = client(&args.keys)?;
            let biz: Value = serde_json::from_str(&read_input(args.input.as_ref())?)
                .context("the biz_data is not JSON")?;
            let request_id = args.request_id.unwrap_or_else(default_request_no);
            let request = client.seal_request(&request_id, &biz)?;
            println!("{}", serde_json::to_string_pretty(&request)?);
            Ok(ExitCode::SUCCESS)
        }
        ToolCommand::Open(args) => {
            let client = client(&args.keys)?;
            let message: Value = serde_json::from_str(&read_input(args.input.as_ref())?)
                .context("the message is not JSON")?;
            let shown = if let Some(pem) = args.platform.key(super::PLATFORM)? {
                json!({ "biz_data": client.open_request_as_platform(&message, &pem)? })
            } else {
                let opened = client.open_response(&message)?;
                json!({
                    "code": opened.code, "msg": opened.msg, "sub_code": opened.sub_code,
                    "sub_msg": opened.sub_msg, "total": opened.total, "data": opened.data,
                })
            };
            println!("{}", serde_json::to_string_pretty(&shown)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn client(keys: &Keys) -> anyhow::Result<Client> {
    let (merchant, platform) = keys.files.pems(super::PLATFORM)?;
    Ok(Client::from_pems(
        &keys.app_id,
        &keys.partner_id,
        &merchant,
        &platform,
    )?)
}
