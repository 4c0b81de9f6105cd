//! "Save this state as a scenario": a running sandbox's business state written back as a
//! scenario file, so another sandbox can start where this one is.
//!
//! The original file is read again as a YAML tree and kept as written — provider sections,
//! credentials (keys as they were written: `builtin:` names, paths or inline PEM), faults,
//! magic values, seed and steps, in their key order — except for what a world now holds:
//!
//! - each merchant's `accounts`, `cardholders` and `cards` are replaced by its world's (cards
//!   in the order they were made, so each provider lists them as before); people and cards a
//!   provider registered carry their `issuer`, references, tokens and products, so they come
//!   back as that provider's own; cardholders' own accounts (credit extension) are written under
//!   their person;
//! - `generate` goes: the people and cards it made are listed now;
//! - `timeline` goes: its events either ran (their effects are in the state) or are still to
//!   come (see below);
//! - `clock.start` becomes the sandbox instant of the tenant furthest ahead, `frozen` stays
//!   as it was. A scenario has one clock for all its merchants, and starting a tenant later than
//!   it was leaves every timestamp its state holds in its past, while an earlier start would
//!   not. Tenants that were behind (the control API moves one tenant's clock) start ahead.
//!
//! What a scenario cannot carry is history and work in flight: transactions, transfers and
//! the ledger, card orders, uploaded files, webhook deliveries, the events log and timeline
//! labels, spent order numbers and request numbers, events waiting on the clock (a KYC review
//! due later, a card in production, a recharge on its way, a closing card's refund), KazePay's
//! registered webhook URL, and when each person and card was made (they start at the clock
//! start, KYC decisions too). Money on its way is lost with its transfer, so settle it (advance
//! the clock) before saving. Holds (`blocked`) are kept, but the authorizations behind them are
//! not, so no clearing or reversal can release them. The random streams start again from the
//! seed; ids and card numbers that are taken are skipped.
//!
//! Where a card's money sits (its `funding`) is not written: the loader derives it from the
//! issuer and the merchant's mode, as it did when the card was made. Two states do not fit the
//! format: a card with negative money (a clearing above its authorization can leave some) is
//! refused with [`RenderError::Inexpressible`]; cards `generate: { issuer: keysecure }` made
//! hold a balance of their own, which a listed KeySecure card may not, so `check` refuses the
//! file written from such a state.
//!
//! The YAML tree is the reader's own: comments and anchors are not kept (aliases are written
//! out), and plain numbers are written back in their canonical form (`007` as `7`, `1.50` as
//! `1.5`), as a number: quote values whose text matters.

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::Scenario;
use crate::world::card::Limits;
use crate::world::{
    Activation, Address, Card, Cardholder, Currency, IdDocument, Money, Phone, World,
};

/// Why a state could not be written as a scenario.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the scenario's text cannot be read again: {0}")]
    Source(#[from] serde_saphyr::Error),
    #[error("the scenario's text has no `merchants` list of mappings")]
    Shape,
    #[error("{worlds} worlds for {merchants} merchants: give one world per merchant")]
    Count { merchants: usize, worlds: usize },
    #[error(
        "world {index} is merchant `{world}`, but the scenario's merchant there is `{merchant}`"
    )]
    Order {
        index: usize,
        world: String,
        merchant: String,
    },
    #[error("merchant `{tenant}`: {what}, which a scenario cannot hold")]
    Inexpressible { tenant: String, what: String },
    #[error("the scenario cannot be written as YAML: {0}")]
    Write(#[from] serde_saphyr::SerializeError),
}

/// Renders the business state of `worlds` (each running tenant's World, in scenario order) as a
/// scenario YAML file: the original scenario's provider sections, credentials, faults, seed and
/// steps are kept; each merchant's business content is replaced by what its world holds now.
///
/// Give worlds caught up with their clocks (`World::catch_up`), as `/__admin/state` shows them.
pub fn as_scenario(original: &Scenario, worlds: &[&World]) -> Result<String, RenderError> {
    let mut root: Node = serde_saphyr::from_str_with_options(
        &original.source,
        super::yaml_options(&original.source),
    )?;
    let Node::Map(top) = &mut root else {
        return Err(RenderError::Shape);
    };
    let Some(Node::List(merchants)) = lookup(top, "merchants") else {
        return Err(RenderError::Shape);
    };
    if merchants.len() != worlds.len() {
        return Err(RenderError::Count {
            merchants: merchants.len(),
            worlds: worlds.len(),
        });
    }
    for (index, (merchant, world)) in merchants.iter_mut().zip(worlds).enumerate() {
        let Node::Map(keys) = merchant else {
            return Err(RenderError::Shape);
        };
        let id = lookup(keys, "id").and_then(|id| id.scalar_text());
        if id.as_deref() != Some(world.merchant.id.as_str()) {
            return Err(RenderError::Order {
                index,
                world: world.merchant.id.clone(),
                merchant: id.unwrap_or_default(),
            });
        }
        for (key, value) in business(world)? {
            set(keys, key, value);
        }
    }
    if let Some(start) = worlds.iter().map(|w| w.now()).max() {
        set_clock(top, start);
    }
    to_yaml(&root)
}

fn to_yaml(root: &Node) -> Result<String, RenderError> {
    let options = serde_saphyr::ser_options! {
        // PEM blocks read best as literal blocks; long one-line strings stay on one line,
        // exactly as they were, rather than folded.
        prefer_block_scalars: true,
        folded_wrap_chars: usize::MAX,
    };
    Ok(serde_saphyr::to_string_with_options(root, options)?)
}

/// A merchant's business keys and what they hold now (`None`: the key goes).
fn business(world: &World) -> Result<[(&'static str, Option<Node>); 5], RenderError> {
    let tenant = &world.merchant.id;
    for holder in world.holder_accounts.keys() {
        if !world.cardholders.contains_key(holder) {
            return Err(RenderError::Inexpressible {
                tenant: tenant.clone(),
                what: format!("an account of `{holder}`, who is no cardholder"),
            });
        }
    }
    let cardholders: Vec<Node> = world
        .cardholders
        .values()
        .map(|holder| cardholder(holder, world))
        .collect();
    // In the order they were made (then added): the order each issuer lists its cards in, which
    // the loader rebuilds from the file's order since every card starts at the clock start.
    let mut made: Vec<&Card> = world.cards().iter().collect();
    made.sort_by_key(|card| card.created_at);
    let cards = made
        .into_iter()
        .map(|c| card(c, tenant))
        .collect::<Result<Vec<Node>, RenderError>>()?;
    Ok([
        ("accounts", non_empty(accounts(&world.accounts))),
        ("cardholders", non_empty(cardholders)),
        ("cards", non_empty(cards)),
        ("generate", None),
        ("timeline", None),
    ])
}

fn non_empty(items: Vec<Node>) -> Option<Node> {
    (!items.is_empty()).then_some(Node::List(items))
}

/// `accounts:` entries, one per currency.
fn accounts<'a>(balances: impl IntoIterator<Item = (&'a Currency, &'a Money)>) -> Vec<Node> {
    balances
        .into_iter()
        .map(|(currency, balance)| {
            Entries::default()
                .put("currency", currency.code())
                .put("balance", balance.to_string())
                .flow()
        })
        .collect()
}

fn cardholder(holder: &Cardholder, world: &World) -> Node {
    let phone = holder.phone.as_ref().map(|p: &Phone| {
        Entries::default()
            .put("country_code", p.country_code.as_str())
            .put("number", p.number.as_str())
            .maybe("country", p.country.as_deref())
            .flow()
    });
    let document = holder.id_document.as_ref().map(|d: &IdDocument| {
        Entries::default()
            .put("type", name_of(&d.kind))
            .put("number", d.number.as_str())
            .maybe("issued_on", d.issued_on.map(|d| d.to_string()))
            .maybe("expires_on", d.expires_on.map(|d| d.to_string()))
            .flow()
    });
    let address = holder.address.as_ref().map(|a: &Address| {
        Entries::default()
            .put("line1", a.line1.as_str())
            .maybe("line2", a.line2.as_deref())
            .put("city", a.city.as_str())
            .maybe("state", a.state.as_deref())
            .maybe("postal_code", a.postal_code.as_deref())
            .put("country", a.country.as_str())
            .flow()
    });
    let codes: Vec<Node> = holder
        .kyc
        .codes
        .iter()
        .map(|c| Node::from(c.as_str()))
        .collect();
    let own = world
        .holder_accounts
        .get(&holder.id)
        .map(|balances| Node::List(accounts(balances)));
    Entries::default()
        .put("id", holder.id.as_str())
        .maybe("issuer", holder.issuer.as_deref())
        .maybe("merchant_ref", holder.merchant_ref.as_deref())
        .maybe(
            "first_name",
            Some(holder.first_name.as_str()).filter(|n| !n.is_empty()),
        )
        .maybe(
            "last_name",
            Some(holder.last_name.as_str()).filter(|n| !n.is_empty()),
        )
        .maybe("email", holder.email.as_deref())
        .maybe("phone", phone)
        .maybe("id_document", document)
        .maybe("birthday", holder.birthday.map(|d| d.to_string()))
        .maybe("gender", holder.gender.as_ref().map(name_of))
        .maybe("nationality", holder.nationality.as_deref())
        .maybe("address", address)
        .put("kyc", name_of(&holder.kyc.status))
        .maybe("kyc_reason", holder.kyc.reason.as_deref())
        .maybe("kyc_codes", non_empty(codes))
        .maybe("accounts", own)
        .block()
}

fn card(card: &Card, tenant: &str) -> Result<Node, RenderError> {
    // The loader refuses negative card money (a clearing above its authorization can leave
    // some): say so here rather than write a file `check` refuses.
    let amount = |what: &str, money: &Money| {
        if money.is_negative() {
            Err(RenderError::Inexpressible {
                tenant: tenant.to_owned(),
                what: format!("card `{}` has a negative {what} ({money})", card.id),
            })
        } else {
            Ok((!money.is_zero()).then(|| money.to_string()))
        }
    };
    let limits = card.limits.as_deref().map(|l: &Limits| {
        Entries::default()
            .put(
                "daily_transactions",
                Node::UInt(l.daily_transactions.into()),
            )
            .put("single_amount", l.single_amount.to_string())
            .put("daily_amount", l.daily_amount.to_string())
            .put("monthly_amount", l.monthly_amount.to_string())
            .maybe(
                "total_amount",
                l.total_amount.as_ref().map(Money::to_string),
            )
            .flow()
    });
    let activation = card.activation.as_ref().map(|a: &Activation| {
        Entries::default()
            .put("code", a.code.as_str())
            .put("revealed", Node::Bool(a.revealed))
            .flow()
    });
    let expiry = format!("{:04}-{:02}", card.expiry.year, card.expiry.month);
    Ok(Entries::default()
        .put("id", card.id.as_str())
        .maybe("issuer", card.issuer.as_deref())
        .maybe("cardholder", card.cardholder_id.as_deref())
        .put("pan", card.pan.as_str())
        .put("cvv", card.cvv.as_str())
        .put("expiry", expiry)
        .put("form", name_of(&card.form))
        .put("status", name_of(&card.status))
        .put("currency", card.currency.code())
        .maybe("balance", amount("balance", &card.available)?)
        .maybe("blocked", amount("hold", &card.blocked)?)
        .maybe("token", card.token.as_deref())
        .maybe("merchant_ref", card.merchant_ref.as_deref())
        .maybe("product", card.product.as_deref())
        .maybe("pin", card.pin.as_deref())
        .maybe("activation", activation)
        .maybe("limits", limits)
        .block())
}

/// A unit variant's name as the scenario writes it (its serde name).
fn name_of<T: Serialize>(value: &T) -> Node {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Node::Text(name),
        // The world's enums are unit variants with snake_case names.
        _ => Node::Null,
    }
}

/// Points `clock.start` at `start`, `frozen` as written. A file without a clock ran on real
/// time: it gets a running one, after its name, description and seed.
fn set_clock(top: &mut Vec<(Node, Node)>, start: Timestamp) {
    let start = Node::Text(start.to_string());
    match lookup(top, "clock") {
        Some(Node::Map(clock)) => set(clock, "start", Some(start)),
        // `clock:` with nothing under it.
        Some(slot) => *slot = Entries::default().put("start", start).flow(),
        None => {
            let after = top
                .iter()
                .rposition(|(k, _)| ["name", "description", "seed"].iter().any(|n| k.is_text(n)))
                .map_or(0, |at| at + 1);
            let clock = Entries::default().put("start", start).flow();
            top.insert(after, (Node::from("clock"), clock));
        }
    }
}

/// The value under `key` in a mapping's entries.
fn lookup<'a>(entries: &'a mut [(Node, Node)], key: &str) -> Option<&'a mut Node> {
    entries
        .iter_mut()
        .find(|(k, _)| k.is_text(key))
        .map(|(_, v)| v)
}

/// Replaces `key`'s value where it is, adds it at the end, or (`None`) removes it.
fn set(entries: &mut Vec<(Node, Node)>, key: &str, value: Option<Node>) {
    let at = entries.iter().position(|(k, _)| k.is_text(key));
    match (at, value) {
        (Some(at), Some(value)) => entries[at].1 = value,
        (Some(at), None) => {
            entries.remove(at);
        }
        (None, Some(value)) => entries.push((Node::from(key), value)),
        (None, None) => {}
    }
}

/// A YAML node as the reader gives it. Mappings keep their order and keys of any type
/// (Pagsmile's dictionaries are keyed by numbers), which a JSON tree would not.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    List(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// A mapping written on one line, `{a: 1, b: 2}`: the small parts of rendered entities.
    Flow(Vec<(Node, Node)>),
}

impl Node {
    fn is_text(&self, text: &str) -> bool {
        matches!(self, Node::Text(t) if t == text)
    }

    /// A scalar's text as a string field would read it (a merchant id may be written `42`).
    fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Text(t) => Some(t.clone()),
            Node::Int(n) => Some(n.to_string()),
            Node::UInt(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl From<&str> for Node {
    fn from(text: &str) -> Node {
        Node::Text(text.to_owned())
    }
}

impl From<String> for Node {
    fn from(text: String) -> Node {
        Node::Text(text)
    }
}

/// A rendered mapping under construction, in the order the docs list its keys.
#[derive(Default)]
struct Entries(Vec<(Node, Node)>);

impl Entries {
    fn put(mut self, key: &str, value: impl Into<Node>) -> Entries {
        self.0.push((Node::from(key), value.into()));
        self
    }

    /// `key` only when there is a value (what the loader defaults is left out).
    fn maybe(self, key: &str, value: Option<impl Into<Node>>) -> Entries {
        match value {
            Some(value) => self.put(key, value),
            None => self,
        }
    }

    fn block(self) -> Node {
        Node::Map(self.0)
    }

    fn flow(self) -> Node {
        Node::Flow(self.0)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Int(n) => serializer.serialize_i64(*n),
            Node::UInt(n) => serializer.serialize_u64(*n),
            Node::Float(x) => serializer.serialize_f64(*x),
            Node::Text(t) => serializer.serialize_str(t),
            Node::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => MapOf(entries).serialize(serializer),
            Node::Flow(entries) => serde_saphyr::FlowMap(MapOf(entries)).serialize(serializer),
        }
    }
}

/// Entries serialized as a mapping.
struct MapOf<'a>(&'a [(Node, Node)]);

impl Serialize for MapOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Int(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Node, E> {
        Ok(Node::UInt(n))
    }

    /// Beyond 64 bits a number is kept as its digits: a string field reads them the same.
    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Node, E> {
        Ok(i64::try_from(n).map_or_else(|_| Node::Text(n.to_string()), Node::Int))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Node, E> {
        Ok(u64::try_from(n).map_or_else(|_| Node::Text(n.to_string()), Node::UInt))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Node, E> {
        Ok(Node::Float(x))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Node, E> {
        Ok(Node::from(text))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Node, E> {
        Ok(Node::Text(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{CardStatus, Funding, Kyc, KycStatus};

    /// Two merchants and every part of a file the rendering must keep: provider sections with
    /// number-keyed dictionaries, an inline PEM, faults, magic, FX, steps, a long description,
    /// plain and quoted numbers, a generated crowd and a timeline.
    fn source() -> String {
        let pem: String = include_str!("../../fixtures/keys/demo-merchant.pub.pem")
            .lines()
            .map(|line| format!("\n          {line}"))
            .collect();
        format!(
            r#"# yaml-language-server: $schema=../schema/scenario.schema.json
name: keep
description: A description long enough to go past the eighty characters a folded scalar would wrap at,  with two spaces.
seed: 9
clock: {{ start: 2026-03-01T08:00:00Z, frozen: true }}
fx: {{ "EUR/USD": "1.0850" }}
magic:
  declines: [ {{ amount: "*.51", reason: insufficient funds }} ]
pagsmile:
  id_types: {{ 1: passport, 2: id_card, 3: driver_license }}
  card_bins: {{ 658704: 16 }}
keysecure: {{ rate_limit: {{ per_second: 0 }} }}
faults:
  - id: busy
    match: {{ provider: kazepay, operation: cardRecharge, tenant: shop, fields: {{ cardID: "3377" }} }}
    action: {{ error: system_busy }}
    when: {{ first: 2 }}
steps:
  - name: a lookup
    tenant: shop
    request: {{ provider: acedata, operation: check-1e, body: {{ bank_card: "6222020200112233446", count: 3 }} }}
    expect: {{ status: 200, code: "0" }}
  - advance: 30s
merchants:
  - id: shop
    name: Shop Ltd.
    credentials:
      acedata: [ {{ token: shop-token, rate_limit: {{ per_second: 5 }} }} ]
      keysecure: {{ api_key: shop-key, api_secret: "0123456789abcdef" }}
      pagsmile:
        app_id: 2017051914172236111
        partner_id: "1666000000000002"
        security_key: shop-security-key
        merchant_public_key: builtin:demo-merchant
      kazepay:
        sys_id: "202402271432298822660002"
        merchant_public_key: |{pem}
    accounts: [ {{ currency: USD, balance: "1000.00" }} ]
    cardholders:
      - {{ id: zhang, first_name: 伟, last_name: 张, id_document: {{ type: id_card, number: "110101199003074514" }} }}
    cards:
      - {{ id: icbc, cardholder: zhang, pan: "6222020200112233446", currency: CNY, balance: "10.00" }}
      - {{ id: "3377", issuer: kazepay, form: physical, status: stock, pan: "4937240800070619" }}
    generate: {{ cardholders: 2, locale: en, balance: "5.00" }}
    timeline:
      - {{ after: 1m, card_status: {{ card: icbc, status: frozen }} }}
  - id: other
    credentials:
      keysecure: {{ api_key: other-key, api_secret: "0123456789abcdef", mode: CREDIT_EXTENSION }}
    accounts: [ {{ currency: TUSDT, balance: "500.00" }} ]
"#
        )
    }

    fn load(source: &str) -> Scenario {
        Scenario::from_source(source, "test.yaml", None, &crate::providers::builtin())
            .unwrap_or_else(|e| panic!("{e}\n{source}"))
    }

    fn worlds(scenario: &Scenario) -> Vec<World> {
        (0..scenario.tenants.len())
            .map(|i| scenario.fresh_world(i).unwrap())
            .collect()
    }

    fn render(scenario: &Scenario, worlds: &[World]) -> String {
        as_scenario(scenario, &worlds.iter().collect::<Vec<_>>()).unwrap()
    }

    fn tree(source: &str) -> Vec<(Node, Node)> {
        match serde_saphyr::from_str::<Node>(source).unwrap() {
            Node::Map(entries) => entries,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    fn get<'a>(entries: &'a [(Node, Node)], key: &str) -> &'a Node {
        &entries.iter().find(|(k, _)| k.is_text(key)).unwrap().1
    }

    fn keys(entries: &[(Node, Node)]) -> Vec<Node> {
        entries.iter().map(|(k, _)| k.clone()).collect()
    }

    /// What `/__admin/state` shows of a world's business.
    fn business_view(world: &World) -> serde_json::Value {
        let state = serde_json::to_value(world).unwrap();
        serde_json::json!({
            "cardholders": state["cardholders"],
            "cards": state["cards"],
            "accounts": state["accounts"],
            "holder_accounts": state["holder_accounts"],
        })
    }

    fn money(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::new(code).unwrap()).unwrap()
    }

    #[test]
    fn what_is_not_business_survives_unchanged_in_its_order() {
        let source = source();
        let scenario = load(&source);
        let rendered = render(&scenario, &worlds(&scenario));
        load(&rendered);
        let (before, after) = (tree(&source), tree(&rendered));
        assert_eq!(keys(&before), keys(&after), "{rendered}");
        // The clock too: a frozen one that has not moved starts where it did.
        for (key, value) in &before {
            if !key.is_text("merchants") {
                assert_eq!(get(&after, key.scalar_text().unwrap().as_str()), value);
            }
        }
        let (Node::List(merchants_before), Node::List(merchants_after)) =
            (get(&before, "merchants"), get(&after, "merchants"))
        else {
            panic!("merchants are lists");
        };
        let business = ["accounts", "cardholders", "cards", "generate", "timeline"];
        for (was, is) in merchants_before.iter().zip(merchants_after) {
            let (Node::Map(was), Node::Map(is)) = (was, is) else {
                panic!("merchants are mappings");
            };
            let kept = |entries: &[(Node, Node)]| -> Vec<(Node, Node)> {
                entries
                    .iter()
                    .filter(|(k, _)| !business.iter().any(|b| k.is_text(b)))
                    .cloned()
                    .collect()
            };
            assert_eq!(kept(was), kept(is));
        }
        // The inline PEM went out as a literal block, whole.
        let pem = include_str!("../../fixtures/keys/demo-merchant.pub.pem");
        let Node::Map(shop) = &merchants_after[0] else {
            panic!()
        };
        let Node::Map(credentials) = get(shop, "credentials") else {
            panic!()
        };
        let Node::Map(kazepay) = get(credentials, "kazepay") else {
            panic!()
        };
        assert_eq!(get(kazepay, "merchant_public_key"), &Node::from(pem));
        assert!(rendered.contains("merchant_public_key: |"), "{rendered}");
    }

    #[test]
    fn generated_people_become_listed_and_the_timeline_goes() {
        let source = source();
        let scenario = load(&source);
        let worlds = worlds(&scenario);
        let rendered = render(&scenario, &worlds);
        assert!(!rendered.contains("generate:") && !rendered.contains("timeline:"));
        assert!(rendered.contains("id: gen-0002-card-1"), "{rendered}");
        let again = load(&rendered);
        for (index, world) in worlds.iter().enumerate() {
            assert_eq!(
                business_view(again.initial_world(index).unwrap()),
                business_view(world)
            );
        }
    }

    #[test]
    fn what_providers_registered_comes_back_as_theirs() {
        let scenario = load(&source());
        let mut worlds = worlds(&scenario);
        let at = worlds[0].now();
        let shop = &mut worlds[0];
        // A KeySecure person: no names, the merchant's reference, a rejection with codes.
        shop.cardholders.insert(
            "CH1".into(),
            Cardholder {
                issuer: Some("keysecure".into()),
                merchant_ref: Some("U-1".into()),
                kyc: Kyc {
                    codes: vec!["1".into(), "7".into()],
                    ..Kyc::settled(KycStatus::Rejected, Some("blurry".into()), at)
                },
                ..Cardholder::named("CH1", "", "", Kyc::settled(KycStatus::Passed, None, at), at)
            },
        );
        // A Pagsmile person keeps the mobile number whole.
        shop.cardholders.insert(
            "20000002".into(),
            Cardholder {
                issuer: Some("pagsmile".into()),
                email: Some("joao@example.com".into()),
                phone: Some(Phone {
                    country_code: String::new(),
                    number: "+5511987654321".into(),
                    country: None,
                }),
                ..Cardholder::named(
                    "20000002",
                    "Joao",
                    "Souza",
                    Kyc::settled(KycStatus::Pending, None, at),
                    at,
                )
            },
        );
        // A KeySecure card with a PIN, its product, a reference and a hold on the merchant's
        // money.
        let usd = Currency::new("USD").unwrap();
        shop.insert_card(Card {
            cardholder_id: Some("CH1".into()),
            status: CardStatus::Active,
            merchant_ref: Some("U-1-card".into()),
            product: Some("BIN202405210001".into()),
            pin: Some("1234".into()),
            blocked: money("5.00", "USD"),
            funding: Funding::MerchantAccount,
            ..Card::ordered(
                "KC1".into(),
                "keysecure",
                "4111111111111111".into(),
                "123".into(),
                usd,
                at,
            )
        })
        .unwrap();
        // A KazePay stock card given to someone, its activation code not yet handed out.
        {
            let mut card = shop.card_mut("3377").unwrap();
            card.cardholder_id = Some("zhang".into());
            card.status = CardStatus::Inactive;
            card.activation = Some(Activation {
                code: "12345678".into(),
                revealed: false,
            });
        }
        // A credit-extension person with an account of their own.
        let other = &mut worlds[1];
        other.cardholders.insert(
            "CH2".into(),
            Cardholder {
                issuer: Some("keysecure".into()),
                merchant_ref: Some("U-2".into()),
                ..Cardholder::named("CH2", "", "", Kyc::settled(KycStatus::Passed, None, at), at)
            },
        );
        other
            .holder_accounts
            .entry("CH2".into())
            .or_default()
            .insert(Currency::new("TUSDT").unwrap(), money("70.00", "TUSDT"));
        other
            .accounts
            .insert(Currency::new("TUSDT").unwrap(), money("430.00", "TUSDT"));

        let again = load(&render(&scenario, &worlds));
        for (index, world) in worlds.iter().enumerate() {
            assert_eq!(
                business_view(again.initial_world(index).unwrap()),
                business_view(world)
            );
        }
    }

    #[test]
    fn the_clock_starts_where_the_furthest_tenant_is() {
        let scenario = load(&source());
        let mut worlds = worlds(&scenario);
        worlds[1].clock.advance(jiff::SignedDuration::from_mins(90));
        let ahead = worlds[1].now();
        let again = load(&render(&scenario, &worlds));
        assert_eq!(again.clock.start, Some(ahead));
        assert!(again.clock.frozen);
        // A file without a clock gets one after its name, description and seed, running.
        let default = load(super::super::DEFAULT_SOURCE);
        let worlds = self::worlds(&default);
        let earliest = worlds[0].now();
        let rendered = render(&default, &worlds);
        let latest = worlds[0].now();
        let names: Vec<String> = keys(&tree(&rendered))
            .iter()
            .filter_map(Node::scalar_text)
            .collect();
        assert_eq!(names, ["name", "description", "seed", "clock", "merchants"]);
        let again = load(&rendered);
        assert!(!again.clock.frozen);
        let start = again.clock.start.unwrap();
        assert!(earliest <= start && start <= latest, "{start}");
    }

    #[test]
    fn texts_and_keys_of_every_kind_come_back_as_they_were() {
        let texts = [
            "",
            "  leading",
            "trailing  ",
            "a\n  b\n",
            "  indented\nblock",
            "gap\n\n\n",
            "no end\nline",
            "\ttab",
            "# not a comment",
            "key: value",
            "- dash",
            "yes",
            "no",
            "null",
            "~",
            "true",
            "0x1F",
            "08",
            "1e3",
            "1_000",
            "2026-01-01",
            "2026-01-01T00:00:00Z",
            "'single",
            "\"double",
            "é 张伟",
            "a b  c",
            "*.51",
            "&anchor",
            "!tag",
            "@at",
            "`tick",
            "%percent",
            "{flow}",
            "[x]",
        ];
        let mut entries: Vec<(Node, Node)> = texts
            .iter()
            .map(|t| (Node::from(format!("k{t}")), Node::from(*t)))
            .collect();
        entries.push((Node::UInt(1), Node::from("number key")));
        entries.push((Node::Int(-3), Node::Float(1.5)));
        entries.push((
            Node::from("flow"),
            Node::Flow(vec![(Node::from("a"), Node::from("b: c"))]),
        ));
        let node = Node::Map(entries);
        let text = to_yaml(&node).unwrap();
        let Node::Map(mut back) = serde_saphyr::from_str::<Node>(&text).unwrap() else {
            panic!("{text}")
        };
        // A flow mapping reads back as a mapping.
        let Node::Map(flow) = back.pop().unwrap().1 else {
            panic!("{text}")
        };
        let Node::Map(mut entries) = node else {
            unreachable!()
        };
        let Node::Flow(expected) = entries.pop().unwrap().1 else {
            unreachable!()
        };
        assert_eq!(flow, expected, "{text}");
        assert_eq!(back, entries, "{text}");
    }

    #[test]
    fn worlds_must_be_the_scenarios_merchants_in_order() {
        let scenario = load(&source());
        let worlds = worlds(&scenario);
        assert!(matches!(
            as_scenario(&scenario, &[&worlds[0]]),
            Err(RenderError::Count {
                merchants: 2,
                worlds: 1
            })
        ));
        let error = as_scenario(&scenario, &[&worlds[1], &worlds[0]]).unwrap_err();
        assert!(
            matches!(error, RenderError::Order { index: 0, .. }),
            "{error}"
        );
    }

    #[test]
    fn money_a_scenario_cannot_hold_is_refused_by_name() {
        let scenario = load(&source());
        let mut worlds = worlds(&scenario);
        worlds[0].card_mut("icbc").unwrap().available = money("-0.05", "CNY");
        let error = as_scenario(&scenario, &worlds.iter().collect::<Vec<_>>()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "merchant `shop`: card `icbc` has a negative balance (-0.05), which a scenario cannot hold"
        );
    }
}
