//! The Call Records list as SQL, written once for both backends: plain
//! functions that turn a [`CallListQuery`] into statements with `$n`
//! placeholders and the values to bind to them, in order. User input only
//! ever travels as a bound value; the text of a statement is made of the
//! fixed fragments below and placeholder numbers.
//!
//! Every plan walks an index in the list's order, `(sort_at DESC, id DESC)`,
//! after an equality on at most one column (`campaign_id`, `agent_id`,
//! `status`, `direction`, `has_recording`, see migration 0003), and stops at
//! `limit + 1` rows; the keyset condition `(sort_at, id) < (…)` starts a
//! later page exactly where the last one ended, so a deep page costs what
//! the first does.
//!
//! Searching part of a phone number or a name is done in two steps, since
//! `LIKE '%…%'` cannot be answered from a B-tree:
//! 1. the contacts that match are looked up through a trigram index (FTS5
//!    on SQLite, pg_trgm on PostgreSQL), at most [`FEW_CONTACTS`] + 1;
//! 2. if there are that few, the calls are those of these contacts
//!    (`contact_id IN (…)`, a few index lookups and a small sort); if
//!    there are more, the match is common enough that walking the calls in
//!    order and checking each one's contact finds a page quickly.

use omnivox_core::store::call_list::{CallListPosition, CallListQuery, TextSearch};

/// Up to this many matching contacts, calls are fetched by contact.
pub(crate) const FEW_CONTACTS: usize = 1000;

/// What differs between the dialects in this module.
pub(crate) struct Dialect {
    /// The trigram-indexed table of contacts and its id column.
    pub contact_search: &'static str,
    pub contact_search_id: &'static str,
    /// Case-insensitive LIKE.
    pub ilike: &'static str,
    /// After `FROM call_records c` when calls are fetched by contact.
    /// SQLite without statistics guesses that any equality finds ten rows,
    /// and could walk, say, every busy call to find one contact's; the
    /// contacts' calls are known to be few, so it is told to use their
    /// index. PostgreSQL has statistics and needs no hint.
    pub by_contact: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    contact_search: "contacts_search",
    contact_search_id: "rowid",
    ilike: "LIKE",
    by_contact: " INDEXED BY call_records_by_contact",
};
pub(crate) const POSTGRES: Dialect =
    Dialect { contact_search: "contacts", contact_search_id: "id", ilike: "ILIKE", by_contact: "" };

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    Bool(bool),
}

/// A statement and its values, `$1` first.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Statement {
    pub sql: String,
    pub values: Vec<Value>,
}

impl Statement {
    /// Adds `value` and returns its placeholder.
    fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }
}

/// A condition on the contact of a call: column, operator, pattern.
struct ContactCondition {
    column: &'static str,
    op: &'static str,
    pattern: String,
}

fn contact_conditions(q: &CallListQuery, dialect: &Dialect) -> Vec<ContactCondition> {
    let mut out = Vec::new();
    let phone = |digits: &str| ContactCondition { column: "phone", op: "LIKE", pattern: format!("%{digits}%") };
    if let Some(p) = &q.phone {
        out.push(phone(p.as_str()));
    }
    match &q.text {
        Some(TextSearch::Phone(p)) => out.push(phone(p.as_str())),
        Some(TextSearch::ContactName(name)) => {
            out.push(ContactCondition { column: "name", op: dialect.ilike, pattern: format!("%{}%", literal(name)) })
        }
        Some(TextSearch::CallSidPrefix(_)) | None => {}
    }
    out
}

/// `text` as a LIKE pattern that matches it literally, near enough: the
/// wildcards and the escape character become `_` (any one character), as
/// FTS5's trigram index does not take an ESCAPE clause. A name holding one
/// of them may so match a few more names, never fewer.
fn literal(text: &str) -> String {
    text.chars().map(|c| if matches!(c, '%' | '_' | '\\') { '_' } else { c }).collect()
}

/// The contacts matching the query's phone and name searches (at most
/// `FEW_CONTACTS + 1` of them), or `None` when the query has none.
pub(crate) fn matching_contacts(q: &CallListQuery, dialect: &Dialect) -> Option<Statement> {
    let conditions = contact_conditions(q, dialect);
    if conditions.is_empty() {
        return None;
    }
    let mut s = Statement::default();
    let mut wheres = Vec::new();
    for c in conditions {
        let p = s.bind(Value::Text(c.pattern));
        wheres.push(format!("{} {} {p}", c.column, c.op));
    }
    s.sql = format!(
        "SELECT {} FROM {} WHERE {} LIMIT {}",
        dialect.contact_search_id,
        dialect.contact_search,
        wheres.join(" AND "),
        FEW_CONTACTS + 1
    );
    Some(s)
}

/// How the calls are narrowed to the contacts a search found.
pub(crate) enum Contacts<'a> {
    /// No phone or name search.
    Any,
    /// These contacts (at most `FEW_CONTACTS`, not empty).
    Among(&'a [i64]),
    /// Many contacts match: check each call's contact.
    Matching,
}

/// How to narrow the calls, given whether the query searches contacts and
/// the ids that search found; `None` when no call can match.
pub(crate) fn contacts_strategy(searched: bool, found: &[i64]) -> Option<Contacts<'_>> {
    match (searched, found.len()) {
        (false, _) => Some(Contacts::Any),
        (true, 0) => None,
        (true, n) if n <= FEW_CONTACTS => Some(Contacts::Among(found)),
        (true, _) => Some(Contacts::Matching),
    }
}

/// The ids of one page of calls (`limit + 1` rows, to tell whether another
/// page follows), in the list's order, with their sort times.
pub(crate) fn page_ids(q: &CallListQuery, contacts: Contacts<'_>, dialect: &Dialect) -> Statement {
    let mut s = Statement::default();
    let mut wheres: Vec<String> = Vec::new();
    let hint = if matches!(contacts, Contacts::Among(_)) { dialect.by_contact } else { "" };
    if let Some(code) = &q.campaign {
        let p = s.bind(Value::Text(code.clone()));
        wheres.push(format!("c.campaign_id = (SELECT id FROM campaigns WHERE code = {p})"));
    }
    if let Some(agent) = q.agent {
        wheres.push(format!("c.agent_id = {}", s.bind(Value::Int(agent.0))));
    }
    if let Some(status) = &q.status {
        wheres.push(format!("c.status = {}", s.bind(Value::Text(status.clone()))));
    }
    if let Some(direction) = &q.direction {
        wheres.push(format!("c.direction = {}", s.bind(Value::Text(direction.clone()))));
    }
    if let Some(has) = q.has_recording {
        wheres.push(format!("c.has_recording = {}", s.bind(Value::Bool(has))));
    }
    if let Some(from) = q.from {
        wheres.push(format!("c.sort_at >= {}", s.bind(Value::Int(from.timestamp_millis()))));
    }
    if let Some(to) = q.to {
        wheres.push(format!("c.sort_at <= {}", s.bind(Value::Int(to.timestamp_millis()))));
    }
    if let Some(sid) = &q.call_sid {
        wheres.push(format!("c.call_sid = {}", s.bind(Value::Text(sid.as_str().to_owned()))));
    }
    if let Some(TextSearch::CallSidPrefix(prefix)) = &q.text {
        let low = s.bind(Value::Text(prefix.clone()));
        let high = s.bind(Value::Text(sid_prefix_end(prefix)));
        wheres.push(format!("c.call_sid >= {low} AND c.call_sid < {high}"));
    }
    match contacts {
        Contacts::Any => {}
        Contacts::Among(ids) => {
            let list: Vec<String> = padded(ids).map(|id| s.bind(Value::Int(id))).collect();
            wheres.push(format!("c.contact_id IN ({})", list.join(", ")));
        }
        Contacts::Matching => {
            // A scalar subquery, not a join: it keeps the calls' index the
            // outer loop on both backends, whatever they guess of the LIKE.
            for c in contact_conditions(q, dialect) {
                let p = s.bind(Value::Text(c.pattern));
                wheres.push(format!("(SELECT k.{} FROM contacts k WHERE k.id = c.contact_id) {} {p}", c.column, c.op));
            }
        }
    }
    if let Some(CallListPosition { sort_at_ms, id }) = q.after {
        let (at, id) = (s.bind(Value::Int(sort_at_ms)), s.bind(Value::Int(id)));
        wheres.push(format!("(c.sort_at, c.id) < ({at}, {id})"));
    }
    let limit = s.bind(Value::Int(i64::from(q.limit) + 1));
    let wheres = if wheres.is_empty() { String::new() } else { format!(" WHERE {}", wheres.join(" AND ")) };
    s.sql = format!(
        "SELECT c.id, c.sort_at FROM call_records c{hint}{wheres} ORDER BY c.sort_at DESC, c.id DESC LIMIT {limit}"
    );
    s
}

/// The first string after every CallSid starting with `prefix` (lowercase
/// hexadecimal after `CA`): the last digit moved up by one in `0-9a-f`,
/// then `g`. Ordered the same under the C and the usual libc/ICU collations.
fn sid_prefix_end(prefix: &str) -> String {
    let mut out = prefix.to_owned();
    if let Some(last) = out.pop() {
        out.push(match last {
            '9' => 'a',
            c => char::from_u32(u32::from(c) + 1).unwrap_or(c),
        });
    }
    out
}

/// `ids` repeated at the end up to the next power of two, so that the
/// statement's text (and its prepared statement) is one of a dozen.
fn padded(ids: &[i64]) -> impl Iterator<Item = i64> + '_ {
    let n = ids.len().next_power_of_two();
    let last = ids.last().copied().unwrap_or_default();
    ids.iter().copied().chain(std::iter::repeat_n(last, n - ids.len()))
}

/// `SELECT` of the calls with these ids (a page), in the list's order.
pub(crate) fn calls_by_id(ids: &[i64]) -> Statement {
    let mut s = Statement::default();
    let list: Vec<String> = padded(ids).map(|id| s.bind(Value::Int(id))).collect();
    s.sql = format!(
        "{} WHERE c.id IN ({}) ORDER BY c.sort_at DESC, c.id DESC",
        crate::rows::CALL_VIEW_SELECT,
        list.join(", ")
    );
    s
}

/// `SELECT` of the recordings of these calls, by call then id.
pub(crate) fn recordings_of(ids: &[i64]) -> Statement {
    let mut s = Statement::default();
    let list: Vec<String> = padded(ids).map(|id| s.bind(Value::Int(id))).collect();
    s.sql = format!(
        "{} WHERE call_record_id IN ({}) ORDER BY call_record_id, id",
        crate::rows::RECORDING_VIEW_SELECT,
        list.join(", ")
    );
    s
}

#[cfg(test)]
mod tests;
