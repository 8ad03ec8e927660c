//! The flow runner: phases in dependency order, each task a child job.

use std::sync::Arc;

use serde_json::{Value, json};

use super::run::{Emitter, FLOW, Failure, Outcome, Resolved, killed, run_job};
use super::{Job, by_id, insert};
use crate::db;
use crate::state::Shared;

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Phases in dependency order (ties in the order given).
fn phase_order(phases: &[Value]) -> Result<Vec<&Value>, Failure> {
    let mut done: Vec<String> = Vec::new();
    let mut order = Vec::new();
    while order.len() < phases.len() {
        let next = phases.iter().find(|p| {
            let id = id_text(&p["id"]);
            !done.contains(&id)
                && p["dependsOn"]
                    .as_array()
                    .is_none_or(|deps| deps.iter().all(|d| done.contains(&id_text(d))))
        });
        let Some(p) = next else {
            return Err(Failure::user(
                "The flow's phases depend on each other in a cycle or on unknown phases.",
            ));
        };
        done.push(id_text(&p["id"]));
        order.push(p);
    }
    Ok(order)
}

/// A flow: phases in order, each enabled task a child job run to its end; a failed task
/// stops the flow after its phase unless it may fail (`continueOnFailure`).
pub(super) async fn flow(shared: &Arc<Shared>, job: &Job, resolved: &Resolved) -> Outcome {
    let cfg = &resolved.configuration;
    let phases = cfg["phases"].as_array().cloned().unwrap_or_default();
    let tasks = cfg["tasks"].as_array().cloned().unwrap_or_default();
    let order = match phase_order(&phases) {
        Ok(o) => o,
        Err(f) => return Outcome::Error(f),
    };
    let mut report = Vec::new();
    let mut failed: Option<String> = None;
    let mut warned = false;
    for phase in order {
        let phase_id = id_text(&phase["id"]);
        let phase_name = phase["name"].as_str().unwrap_or("").to_owned();
        {
            let store = shared.store();
            Emitter { job }.emit(
                &store,
                shared.now(),
                "info",
                &format!("Running phase \"{phase_name}\"."),
            );
        }
        for task in tasks.iter().filter(|t| id_text(&t["phase"]) == phase_id) {
            if task["enabled"].as_bool() == Some(false) {
                continue;
            }
            if killed(shared, job.id) {
                return Outcome::Terminated;
            }
            let name = task["name"].as_str().unwrap_or("").to_owned();
            let component = task["task"]["componentId"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let config = id_text(&task["task"]["configId"]);
            let child = match start_child(shared, job, &component, &config, &task["task"]) {
                Ok(c) => c,
                Err(f) => return Outcome::Error(f),
            };
            let status = run_job(Arc::clone(shared), child).await;
            let message = {
                let store = shared.store();
                by_id(&store.db, child)
                    .ok()
                    .flatten()
                    .and_then(|j| j.result)
                    .and_then(|r| r["message"].as_str().map(str::to_owned))
                    .unwrap_or_default()
            };
            report.push(json!({
                "taskId": id_text(&task["id"]), "name": name, "phase": phase_id,
                "jobId": child.to_string(), "componentId": component, "configId": config,
                "status": status,
            }));
            if status == "terminated" || status == "cancelled" {
                return Outcome::Terminated;
            }
            if status != "success" && status != "warning" {
                if task["continueOnFailure"].as_bool() == Some(true) {
                    warned = true;
                } else if failed.is_none() {
                    failed = Some(format!(
                        "Task \"{name}\" in phase \"{phase_name}\" failed: {message}"
                    ));
                }
            } else if status == "warning" {
                warned = true;
            }
        }
        if failed.is_some() {
            break;
        }
    }
    let result = |message: &str| json!({"message": message, "tasks": report});
    match failed {
        Some(message) => Outcome::Error(Failure {
            tasks: Some(json!(report)),
            ..Failure::user(message)
        }),
        None if warned => Outcome::Warning(result("Flow finished with warnings: a task failed.")),
        None => Outcome::Success(result("Flow finished.")),
    }
}

/// Records a child job of `parent` (`parentRunId`, runId `<parent>.<child>`).
fn start_child(
    shared: &Shared,
    parent: &Job,
    component: &str,
    config: &str,
    task: &Value,
) -> Result<u64, Failure> {
    let store = shared.store();
    let id = db::next_id(&store.db, super::SEQUENCE)?;
    let child = Job {
        id,
        component: component.to_owned(),
        config: (!config.is_empty()).then(|| config.to_owned()),
        config_row_ids: Vec::new(),
        config_data: None,
        mode: task["mode"].as_str().unwrap_or("run").to_owned(),
        tag: None,
        variable_values_id: None,
        variable_values_data: json!({"values": []}),
        status: "created".to_owned(),
        desired_status: "processing".to_owned(),
        run_id: format!("{}.{id}", parent.run_id),
        parent_run_id: Some(parent.run_id.clone()),
        kind: if component == FLOW {
            "orchestrationContainer".to_owned()
        } else {
            "standard".to_owned()
        },
        created: shared.now(),
        started: None,
        ended: None,
        result: None,
        steering: shared.queue.take_control(component),
        ..parent.clone()
    };
    insert(&store.db, &child)?;
    Ok(id)
}
