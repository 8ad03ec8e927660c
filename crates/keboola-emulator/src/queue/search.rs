//! `GET /search/jobs`: filters, time bounds and paging over a project's jobs.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::{Job, authenticate, bad_request, of_project, render};
use crate::http::{ApiError, ApiRequest, ApiResult, ok_json, parse_form};
use crate::state::Shared;

/// A filter value: `x=a`, `x[]=a&x[]=b`, or a comma-free number.
fn values(query: &Map<String, Value>, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for key in keys {
        match query.get(*key) {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(Value::Array(a)) => out.extend(a.iter().filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })),
            Some(Value::Number(n)) => out.push(n.to_string()),
            _ => {}
        }
    }
    out
}

/// `2026-12-01T10:00:00+00:00`, `2026-12-01`, `now`, or relative `-3 days` / `2 hours ago`
/// (the part of PHP's `strtotime` that clients use).
fn parse_time(text: &str, now: Timestamp) -> Option<Timestamp> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Some(now);
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(dt).ok();
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok();
    }
    let lower = t.to_ascii_lowercase();
    let (body, sign) = match lower.strip_suffix(" ago") {
        Some(b) => (b.trim().to_owned(), -1),
        None => (lower.clone(), 1),
    };
    let mut parts = body.split_whitespace();
    let n: i64 = parts.next()?.trim_start_matches('+').parse().ok()?;
    let unit = parts.next()?.trim_end_matches('s');
    if parts.next().is_some() {
        return None;
    }
    let secs = match unit {
        "second" | "sec" => 1,
        "minute" | "min" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 604_800,
        _ => return None,
    };
    now.checked_add(jiff::SignedDuration::from_secs(sign * n * secs))
        .ok()
}

type TimeBound = (Option<Timestamp>, Option<Timestamp>);

fn time_bounds(
    query: &Map<String, Value>,
    name: &str,
    now: Timestamp,
) -> Result<TimeBound, ApiError> {
    let one = |suffix: &str| -> Result<Option<Timestamp>, ApiError> {
        let key = format!("{name}Time{suffix}");
        let mut vals = values(query, &[key.as_str()]);
        if let Some(Value::Object(filters)) = query.get("filters") {
            vals.extend(values(filters, &[key.as_str()]));
        }
        match vals.first() {
            None => Ok(None),
            Some(v) => parse_time(v, now).map(Some).ok_or_else(|| {
                bad_request(&format!(
                    "Invalid request: {key}: \"{v}\" is not a valid date."
                ))
            }),
        }
    };
    Ok((one("From")?, one("To")?))
}

pub(super) fn search(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let ids = values(&query, &["id", "id[]"]);
    let run_ids = values(&query, &["runId", "runId[]"]);
    let parent_run_ids = values(&query, &["parentRunId", "parentRunId[]"]);
    let components = values(
        &query,
        &["component", "component[]", "componentId", "componentId[]"],
    );
    let configs = values(&query, &["config", "config[]", "configId", "configId[]"]);
    let statuses = values(&query, &["status", "status[]"]);
    let modes = values(&query, &["mode", "mode[]"]);
    let token_ids = values(&query, &["tokenId", "tokenId[]"]);
    let branch_ids = values(&query, &["branchId", "branchId[]"]);
    let row_ids = values(&query, &["configRowIds", "configRowIds[]"]);
    let types = values(&query, &["type"]);
    let created = time_bounds(&query, "created", now)?;
    let started = time_bounds(&query, "start", now)?;
    let ended = time_bounds(&query, "end", now)?;
    let int = |key: &str, default: i64| -> Result<i64, ApiError> {
        match values(&query, &[key]).first() {
            None => Ok(default),
            Some(v) => v.parse::<i64>().map_err(|_| {
                bad_request(&format!(
                    "Invalid request: {key}: This value should be of type int."
                ))
            }),
        }
    };
    let limit = int("limit", 100)?;
    let offset = int("offset", 0)?;
    if !(1..=500).contains(&limit) || offset < 0 {
        return Err(bad_request(
            "Invalid request: limit must be between 1 and 500 and offset at least 0.",
        ));
    }
    let sort_by = values(&query, &["sortBy"])
        .first()
        .cloned()
        .unwrap_or_else(|| "id".to_owned());
    let sort_order = values(&query, &["sortOrder"])
        .first()
        .cloned()
        .unwrap_or_else(|| "desc".to_owned());
    const SORTS: &[&str] = &[
        "id",
        "runId",
        "projectId",
        "branchId",
        "componentId",
        "configId",
        "tokenDescription",
        "status",
        "createdTime",
        "updatedTime",
        "startTime",
        "endTime",
        "durationSeconds",
    ];
    if !SORTS.contains(&sort_by.as_str()) {
        return Err(bad_request(&format!(
            "Invalid request: sortBy: The value \"{sort_by}\" is not valid."
        )));
    }
    if !["asc", "desc"].contains(&sort_order.as_str()) {
        return Err(bad_request(&format!(
            "Invalid request: sortOrder: The value \"{sort_order}\" is not valid."
        )));
    }
    let within = |ts: Option<Timestamp>, (from, to): TimeBound| {
        (from.is_none() && to.is_none())
            || ts.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u))
    };
    let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    let mut jobs: Vec<Job> = of_project(&store.db, me.project_id)?
        .into_iter()
        .filter(|j| {
            any(&ids, &j.id.to_string())
                && any(&run_ids, &j.run_id)
                && any(&parent_run_ids, j.parent_run_id.as_deref().unwrap_or(""))
                && any(&components, &j.component)
                && any(&configs, j.config.as_deref().unwrap_or(""))
                && any(&statuses, &j.status)
                && any(&modes, &j.mode)
                && any(&token_ids, &j.token_id.to_string())
                && any(&types, &j.kind)
                && (branch_ids.is_empty()
                    || branch_ids.iter().any(|b| match j.branch_id {
                        None => b == "null" || b.is_empty(),
                        Some(id) => *b == id.to_string(),
                    }))
                && (row_ids.is_empty() || row_ids.iter().any(|r| j.config_row_ids.contains(r)))
                && within(Some(j.created), created)
                && within(j.started, started)
                && within(j.ended, ended)
        })
        .collect();
    let duration = |j: &Job| match (j.started, j.ended) {
        (Some(s), Some(e)) => e.as_second() - s.as_second(),
        _ => 0,
    };
    jobs.sort_by(|a, b| {
        let ord = match sort_by.as_str() {
            "runId" => a.run_id.cmp(&b.run_id),
            "branchId" => a.branch_id.cmp(&b.branch_id),
            "componentId" => a.component.cmp(&b.component),
            "configId" => a.config.cmp(&b.config),
            "tokenDescription" => a.token_description.cmp(&b.token_description),
            "status" => a.status.cmp(&b.status),
            "createdTime" | "updatedTime" => a.created.cmp(&b.created),
            "startTime" => a.started.cmp(&b.started),
            "endTime" => a.ended.cmp(&b.ended),
            "durationSeconds" => duration(a).cmp(&duration(b)),
            _ => std::cmp::Ordering::Equal,
        }
        .then(a.id.cmp(&b.id));
        if sort_order == "asc" {
            ord
        } else {
            ord.reverse()
        }
    });
    let page: Vec<Value> = jobs
        .iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(|j| render(shared, j))
        .collect();
    ok_json(&Value::Array(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_like_strtotime_for_common_inputs() {
        let now: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let t = |s: &str| parse_time(s, now).map(|t| t.to_string());
        assert_eq!(
            t("2026-11-30T10:00:00+00:00").unwrap(),
            "2026-11-30T10:00:00Z"
        );
        assert_eq!(t("2026-11-30").unwrap(), "2026-11-30T00:00:00Z");
        assert_eq!(t("-2 days").unwrap(), "2026-11-29T12:00:00Z");
        assert_eq!(t("3 hours ago").unwrap(), "2026-12-01T09:00:00Z");
        assert!(t("yesterday-ish").is_none());
    }
}
