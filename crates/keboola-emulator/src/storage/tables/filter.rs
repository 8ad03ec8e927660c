//! Row selection shared by data preview, export and row deletion: `columns`, `limit`,
//! `changedSince`/`changedUntil`, the legacy `whereColumn`/`whereValues[]`/`whereOperator`
//! and `whereFilters[]`.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use crate::db::to_sql;
use crate::http::{ApiError, param_i64, param_str, param_str_list};
use crate::storage::tables::{TS_COLUMN, Table, quote};

fn invalid(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.tables.validation")
}

#[derive(Clone, Debug)]
struct Condition {
    column: String,
    operator: String,
    values: Vec<String>,
    numeric: bool,
}

/// A parsed selection.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    /// The columns to return, in order; all when empty.
    pub columns: Vec<String>,
    pub limit: Option<u64>,
    changed_since: Option<Timestamp>,
    changed_until: Option<Timestamp>,
    conditions: Vec<Condition>,
    /// `orderBy[]`: column, descending, numeric.
    order: Vec<(String, bool, bool)>,
}

/// Reads a `changedSince`-style value: unix seconds, a date-time, or `-N unit` (ago).
fn parse_time(value: &Value, now: Timestamp, key: &str) -> Result<Option<Timestamp>, ApiError> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().to_owned(),
        _ => return Err(invalid(&format!("Invalid value for \"{key}\""))),
    };
    if let Ok(secs) = text.parse::<i64>() {
        return Timestamp::from_second(secs)
            .map(Some)
            .map_err(|_| invalid(&format!("Invalid value for \"{key}\"")));
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(Some(ts));
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>()
        && let Ok(z) = dt.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(Some(z.timestamp()));
    }
    // strtotime-style relative times: "-2 days", "-30 minutes".
    let parts: Vec<&str> = text.split_whitespace().collect();
    if let [amount, unit] = parts.as_slice()
        && let Ok(n) = amount.parse::<i64>()
    {
        let unit_secs = match unit.trim_end_matches('s') {
            "second" | "sec" => 1,
            "minute" | "min" => 60,
            "hour" => 3600,
            "day" => 86_400,
            "week" => 604_800,
            _ => 0,
        };
        if unit_secs > 0 {
            return Ok(now
                .checked_add(SignedDuration::from_secs(n * unit_secs))
                .ok());
        }
    }
    Err(invalid(&format!(
        "Invalid value \"{text}\" for \"{key}\": give a unix timestamp or a date"
    )))
}

/// Whether a `dataType` compares as a number.
fn is_numeric_type(t: &str) -> bool {
    matches!(
        t.to_ascii_uppercase().as_str(),
        "INTEGER" | "DOUBLE" | "BIGINT" | "REAL" | "DECIMAL" | "NUMERIC" | "FLOAT"
    )
}

/// Items of a list given as a JSON array or as PHP-indexed form fields (`x[0][k]=`).
fn items(value: &Value) -> Option<Vec<&Value>> {
    match value {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Object(map) => Some(map.values().collect()),
        _ => None,
    }
}

/// A list given as a JSON array, `key[]=` form values, or one comma-separated string.
pub(crate) fn list_or_comma(
    params: &Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, ApiError> {
    Ok(match params.get(key) {
        Some(Value::String(s)) => s
            .split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect(),
        _ => param_str_list(params, key)?.unwrap_or_default(),
    })
}

impl Selection {
    /// Reads the selection parameters and checks them against the table.
    pub fn parse(
        params: &Map<String, Value>,
        table: &Table,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let columns = list_or_comma(params, "columns")?;
        let known = |c: &str| table.columns.iter().any(|t| t == c);
        for c in &columns {
            if !known(c) {
                return Err(invalid(&format!(
                    "Columns \"{c}\" not found in table {}",
                    table.id
                )));
            }
        }
        let limit = match param_i64(params, "limit")? {
            Some(n) if n < 0 => return Err(invalid("Limit must be a positive number")),
            Some(n) => Some(n.unsigned_abs()),
            None => None,
        };
        let changed_since = match params.get("changedSince") {
            Some(v) => parse_time(v, now, "changedSince")?,
            None => None,
        };
        let changed_until = match params.get("changedUntil") {
            Some(v) => parse_time(v, now, "changedUntil")?,
            None => None,
        };
        let mut conditions = Vec::new();
        if let Some(column) = param_str(params, "whereColumn").filter(|c| !c.is_empty()) {
            let operator = param_str(params, "whereOperator").unwrap_or("eq");
            if !matches!(operator, "eq" | "ne") {
                return Err(invalid(&format!(
                    "Invalid where operator \"{operator}\": allowed are eq, ne"
                )));
            }
            conditions.push(Condition {
                column: column.to_owned(),
                operator: operator.to_owned(),
                values: param_str_list(params, "whereValues")?.unwrap_or_default(),
                numeric: false,
            });
        }
        if let Some(filters) = params.get("whereFilters") {
            let list = items(filters).ok_or_else(|| invalid("whereFilters must be a list"))?;
            for (i, item) in list.into_iter().enumerate() {
                let Value::Object(f) = item else {
                    return Err(invalid("whereFilters must be a list of objects"));
                };
                let column = param_str(f, "column").unwrap_or("").to_owned();
                let operator = param_str(f, "operator").unwrap_or("eq").to_owned();
                if !matches!(operator.as_str(), "eq" | "ne" | "gt" | "ge" | "lt" | "le") {
                    return Err(invalid(&format!(
                        "Invalid request:\n - whereFilters[{i}][operator]: \"The value you selected is not a valid choice.\""
                    )));
                }
                let values = match f.get("values") {
                    Some(Value::Array(v)) => v
                        .iter()
                        .map(|x| match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>(),
                    Some(Value::Object(m)) => m
                        .values()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                if values.is_empty() {
                    return Err(invalid(&format!(
                        "Invalid request:\n - whereFilters[{i}][values]: \"This field is missing.\""
                    )));
                }
                let numeric = param_str(f, "dataType").is_some_and(is_numeric_type);
                conditions.push(Condition {
                    column,
                    operator,
                    values,
                    numeric,
                });
            }
        }
        let mut order = Vec::new();
        if let Some(list) = params.get("orderBy") {
            for item in items(list).ok_or_else(|| invalid("orderBy must be a list"))? {
                let column = item.get("column").and_then(Value::as_str).unwrap_or("");
                if !known(column) {
                    return Err(invalid(&format!(
                        "Order column \"{column}\" not found in table {}",
                        table.id
                    )));
                }
                let desc = match item.get("order").and_then(Value::as_str) {
                    None | Some("ASC" | "asc") => false,
                    Some("DESC" | "desc") => true,
                    Some(other) => {
                        return Err(invalid(&format!(
                            "Invalid order \"{other}\": allowed are ASC, DESC"
                        )));
                    }
                };
                let numeric = item
                    .get("dataType")
                    .and_then(Value::as_str)
                    .is_some_and(is_numeric_type);
                order.push((column.to_owned(), desc, numeric));
            }
        }
        for c in &conditions {
            if !known(&c.column) {
                return Err(invalid(&format!(
                    "Filter column \"{}\" not found in table {}",
                    c.column, table.id
                )));
            }
        }
        Ok(Self {
            columns,
            limit,
            changed_since,
            changed_until,
            conditions,
            order,
        })
    }

    /// The columns to output.
    pub fn output_columns(&self, table: &Table) -> Vec<String> {
        if self.columns.is_empty() {
            table.columns.clone()
        } else {
            self.columns.clone()
        }
    }

    /// `WHERE ...` (possibly empty) and its parameters.
    pub fn where_sql(&self) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut args = Vec::new();
        if let Some(t) = self.changed_since {
            parts.push(format!("{TS_COLUMN} >= {}", to_sql(t)));
        }
        if let Some(t) = self.changed_until {
            parts.push(format!("{TS_COLUMN} < {}", to_sql(t)));
        }
        for c in &self.conditions {
            let col = if c.numeric {
                format!("CAST({} AS REAL)", quote(&c.column))
            } else {
                quote(&c.column)
            };
            let ph = |args: &mut Vec<String>, v: &str| {
                args.push(v.to_owned());
                if c.numeric {
                    format!("CAST(?{} AS REAL)", args.len())
                } else {
                    format!("?{}", args.len())
                }
            };
            match c.operator.as_str() {
                "eq" | "ne" => {
                    let list: Vec<String> = c.values.iter().map(|v| ph(&mut args, v)).collect();
                    let not = if c.operator == "ne" { "NOT " } else { "" };
                    if list.is_empty() {
                        parts.push(if not.is_empty() {
                            "0".into()
                        } else {
                            "1".into()
                        });
                    } else {
                        parts.push(format!("{col} {not}IN ({})", list.join(", ")));
                    }
                }
                op => {
                    let sym = match op {
                        "gt" => ">",
                        "ge" => ">=",
                        "lt" => "<",
                        _ => "<=",
                    };
                    let p = ph(&mut args, &c.values[0]);
                    parts.push(format!("{col} {sym} {p}"));
                }
            }
        }
        if parts.is_empty() {
            (String::new(), args)
        } else {
            (format!(" WHERE {}", parts.join(" AND ")), args)
        }
    }

    /// `ORDER BY ...`: the requested order, then load order.
    pub fn order_sql(&self) -> String {
        let mut parts: Vec<String> = self
            .order
            .iter()
            .map(|(c, desc, numeric)| {
                let col = if *numeric {
                    format!("CAST({} AS REAL)", quote(c))
                } else {
                    quote(c)
                };
                format!("{col} {}", if *desc { "DESC" } else { "ASC" })
            })
            .collect();
        parts.push("rowid".to_owned());
        format!(" ORDER BY {}", parts.join(", "))
    }

    pub fn has_filter(&self) -> bool {
        self.changed_since.is_some() || self.changed_until.is_some() || !self.conditions.is_empty()
    }
}
