//! Search of one project without Keboola's global search: its buckets, tables and
//! configurations (with rows) are listed in parallel and matched here; `--in-bodies` also
//! looks into configuration bodies (values, and keys that are not secrets).

use keboola_api::{
    ApiError, Bucket, Component, ComponentsQuery, StorageClient, Table, TablesQuery,
};
use serde_json::Value;

use super::rank::{Match, Needle};
use super::{Hit, Kind};

pub(crate) struct Wanted {
    pub kinds: Vec<Kind>,
    pub in_bodies: bool,
}

impl Wanted {
    /// Rows are searched only when no type is named, as global search does.
    pub fn has(&self, kind: Kind) -> bool {
        if self.kinds.is_empty() {
            return true;
        }
        self.kinds.contains(&kind)
    }
}

type Listings = (Vec<Bucket>, Vec<Table>, Vec<Component>);

fn list(client: &StorageClient, wanted: &Wanted) -> Result<Listings, ApiError> {
    let storage = wanted.has(Kind::Bucket) || wanted.has(Kind::Table);
    let configs = [
        Kind::Configuration,
        Kind::Flow,
        Kind::Transformation,
        Kind::ConfigurationRow,
    ]
    .into_iter()
    .any(|k| wanted.has(k));
    std::thread::scope(|s| {
        let buckets = s.spawn(|| {
            if storage {
                client.list_buckets(&[])
            } else {
                Ok(Vec::new())
            }
        });
        let tables = s.spawn(|| {
            if wanted.has(Kind::Table) {
                client.list_tables(&TablesQuery {
                    bucket: None,
                    include: vec!["columns".into()],
                })
            } else {
                Ok(Vec::new())
            }
        });
        let components = if configs {
            client.list_components(&ComponentsQuery {
                branch: None,
                component_type: None,
                include_rows: true,
            })
        } else {
            Ok(Vec::new())
        };
        let buckets = buckets.join().unwrap_or_else(|_| Ok(Vec::new()));
        let tables = tables.join().unwrap_or_else(|_| Ok(Vec::new()));
        Ok((buckets?, tables?, components?))
    })
}

/// JSON paths (`parameters.query`) under which the body holds the query, in a key or a
/// value; values under secret (`#`) keys are never looked at.
fn body_matches(value: &Value, needle: &Needle, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if needle.found_in(k) {
                    out.push(here.clone());
                } else if k.starts_with('#') {
                    continue;
                } else {
                    body_matches(v, needle, &here, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                body_matches(v, needle, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) if needle.found_in(s) => out.push(path.to_owned()),
        Value::Number(n) if needle.found_in(&n.to_string()) => out.push(path.to_owned()),
        _ => {}
    }
}

fn config_kind(component: &Component) -> Kind {
    match (component.id.as_str(), component.r#type.as_str()) {
        ("keboola.flow" | "keboola.orchestrator", _) => Kind::Flow,
        (_, "transformation") => Kind::Transformation,
        _ => Kind::Configuration,
    }
}

pub(crate) fn search(
    client: &StorageClient,
    needle: &Needle,
    wanted: &Wanted,
) -> Result<Vec<Hit>, ApiError> {
    let (buckets, tables, components) = list(client, wanted)?;
    let mut hits = Vec::new();
    if wanted.has(Kind::Bucket) {
        for b in buckets {
            let name = if b.display_name.is_empty() {
                &b.name
            } else {
                &b.display_name
            };
            if let Some(m) = needle
                .best(name, &[], b.description.as_deref())
                .or_else(|| needle.name_match(&b.id).map(|_| Match::NameSubstring))
            {
                hits.push(
                    Hit::new(Kind::Bucket, b.id.clone(), name.clone(), m)
                        .description(b.description.clone().unwrap_or_default()),
                );
            }
        }
    }
    for t in tables {
        let name = if t.display_name.is_empty() {
            &t.name
        } else {
            &t.display_name
        };
        let columns: Vec<String> = t
            .columns
            .iter()
            .filter(|c| needle.found_in(c))
            .cloned()
            .collect();
        if let Some(m) = needle.best(name, &columns, None) {
            let mut hit = Hit::new(Kind::Table, t.id.clone(), name.clone(), m);
            hit.matched_columns = columns;
            hits.push(hit);
        }
    }
    for c in &components {
        let kind = config_kind(c);
        for conf in &c.configurations {
            if wanted.has(kind) {
                let mut m = needle.best(&conf.name, &[], conf.description.as_deref());
                let mut locations = Vec::new();
                if wanted.in_bodies {
                    if let Some(body) = conf.raw.get("configuration") {
                        body_matches(body, needle, "", &mut locations);
                    }
                    if m.is_none() && !locations.is_empty() {
                        m = Some(Match::Body);
                    }
                }
                if let Some(m) = m {
                    let mut hit = Hit::new(kind, conf.id.clone(), conf.name.clone(), m)
                        .description(conf.description.clone().unwrap_or_default());
                    hit.component_id = Some(c.id.clone());
                    hit.match_count = wanted.in_bodies.then_some(locations.len());
                    hit.match_locations = locations;
                    hits.push(hit);
                }
            }
            if !wanted.has(Kind::ConfigurationRow) || !wanted.kinds.is_empty() {
                continue;
            }
            for row in conf.rows.iter().flatten() {
                let name = row.get("name").and_then(Value::as_str).unwrap_or_default();
                let id = match row.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => continue,
                };
                let description = row.get("description").and_then(Value::as_str);
                let mut m = needle.best(name, &[], description);
                let mut locations = Vec::new();
                if wanted.in_bodies {
                    if let Some(body) = row.get("configuration") {
                        body_matches(body, needle, "", &mut locations);
                    }
                    if m.is_none() && !locations.is_empty() {
                        m = Some(Match::Body);
                    }
                }
                if let Some(m) = m {
                    let mut hit = Hit::new(Kind::ConfigurationRow, id, name.to_owned(), m)
                        .description(description.unwrap_or_default().to_owned());
                    hit.component_id = Some(c.id.clone());
                    hit.config_id = Some(conf.id.clone());
                    hit.match_count = wanted.in_bodies.then_some(locations.len());
                    hit.match_locations = locations;
                    hits.push(hit);
                }
            }
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn body_matches_name_paths_and_skip_secrets() {
        let body = json!({"parameters": {"query": "SELECT * FROM orders", "#password": "orders",
            "tables": [{"name": "x"}, {"name": "ORDERS"}]}});
        let mut out = Vec::new();
        body_matches(&body, &Needle::new("orders"), "", &mut out);
        assert_eq!(out, vec!["parameters.query", "parameters.tables[1].name"]);
    }
}
