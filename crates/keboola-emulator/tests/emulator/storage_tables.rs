//! Buckets and tables: listings, detail, preview filters, typed tables, columns, rows.

use serde_json::json;

use crate::common::{Client, assert_storage_error, start};
use crate::storage_util::{job_results, wait_job};

#[test]
fn seeded_buckets_list_with_metadata_and_detail() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let list = c.get("/v2/storage/buckets?include=metadata", t).json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["in.c-budget", "in.c-crm", "out.c-reports"]);
    let crm = &list[1];
    assert_eq!(crm["name"], "c-crm");
    assert_eq!(crm["displayName"], "crm");
    assert_eq!(crm["stage"], "in");
    assert_eq!(crm["backend"], "snowflake");
    assert_eq!(crm["isLinkedBucket"], false);
    assert_eq!(crm["sharing"], json!(null));
    assert_eq!(crm["rowsCount"], 2500);
    assert_eq!(crm["metadata"][0]["key"], "KBC.description");
    let detail = c.get("/v2/storage/buckets/in.c-crm", t).json();
    let tables: Vec<&str> = detail["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["in.c-crm.customers", "in.c-crm.orders"]);
    assert_eq!(detail["backendPath"], json!(["KEBOOLA_101", "in.c-crm"]));
    assert_storage_error(
        &c.get("/v2/storage/buckets/in.c-nope", t),
        404,
        "The bucket \"in.c-nope\" was not found in the project.",
        "storage.buckets.notFound",
    );
}

#[test]
fn buckets_are_created_deleted_and_annotated() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let created = c.post_json(
        "/v2/storage/buckets",
        t,
        &json!({"name": "sales", "stage": "out", "description": "Sales", "backend": "snowflake"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let b = created.json();
    assert_eq!(b["id"], "out.c-sales");
    assert_eq!(b["description"], "Sales");
    assert_eq!(b["rowsCount"], 0);
    let again = c.post_json(
        "/v2/storage/buckets",
        t,
        &json!({"name": "sales", "stage": "out"}),
    );
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["code"], "storage.buckets.alreadyExists");
    let ro = &emu.projects()[0].tokens.read_only;
    assert_eq!(
        c.post_json("/v2/storage/buckets", ro, &json!({"name": "x"}))
            .status,
        403
    );
    let bad = c.post_json(
        "/v2/storage/buckets",
        t,
        &json!({"name": "x", "stage": "sys"}),
    );
    assert_eq!(bad.json()["code"], "storage.buckets.validation");

    let meta = c.send_form(
        "POST",
        "/v2/storage/buckets/out.c-sales/metadata",
        t,
        "provider=user&metadata[0][key]=KBC.description&metadata[0][value]=Hello",
    );
    assert_eq!(meta.status, 201, "{}", meta.text);
    assert_eq!(meta.json()[0]["value"], "Hello");
    let listed = c.get("/v2/storage/buckets/out.c-sales/metadata", t).json();
    assert_eq!(listed[0]["provider"], "user");
    assert!(listed[0]["id"].is_string());

    assert_eq!(c.delete("/v2/storage/buckets/out.c-sales", t).status, 204);
    let not_empty = c.delete("/v2/storage/buckets/in.c-crm", t);
    assert_storage_error(
        &not_empty,
        400,
        "Only empty buckets can be deleted. There are 2 tables in the bucket.",
        "buckets.deleteNotEmpty",
    );
    let forced = c.delete("/v2/storage/buckets/in.c-crm?force=1&async=1", t);
    let job = wait_job(&c, t, &forced);
    assert_eq!(job["operationName"], "bucketDelete");
    assert_eq!(job["status"], "success");
    assert_eq!(c.get("/v2/storage/buckets/in.c-crm", t).status, 404);
    assert_eq!(c.get("/v2/storage/tables/in.c-crm.orders", t).status, 404);
}

#[test]
fn table_listings_follow_include() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let plain = c.get("/v2/storage/tables", t).json();
    assert_eq!(plain.as_array().unwrap().len(), 4);
    assert_eq!(plain[0]["bucket"]["id"], "in.c-budget");
    assert!(plain[0].get("columns").is_none());
    let with = c
        .get(
            "/v2/storage/buckets/in.c-crm/tables?include=columns,metadata",
            t,
        )
        .json();
    assert_eq!(
        with[1]["columns"],
        json!([
            "order_id",
            "customer_id",
            "order_date",
            "status",
            "amount",
            "currency"
        ])
    );
    assert!(with[1].get("bucket").is_none());
    assert_eq!(with[1]["metadata"][0]["key"], "KBC.dataTypesEnabled");

    let detail = c.get("/v2/storage/tables/in.c-crm.orders", t).json();
    assert_eq!(detail["primaryKey"], json!(["order_id"]));
    assert_eq!(detail["isTyped"], true);
    assert_eq!(detail["rowsCount"], 2000);
    assert!(detail["dataSizeBytes"].as_u64().unwrap() > 0);
    assert_eq!(detail["bucket"]["backend"], "snowflake");
    assert_eq!(
        detail["definition"]["primaryKeysNames"],
        json!(["order_id"])
    );
    assert_eq!(
        detail["definition"]["columns"][4],
        json!({"name": "amount", "definition": {"type": "NUMBER", "nullable": true, "length": "12,2"}, "basetype": "NUMERIC"})
    );
    let amount = detail["columnMetadata"]["amount"].as_array().unwrap();
    assert!(
        amount
            .iter()
            .any(|m| m["key"] == "KBC.datatype.basetype" && m["value"] == "NUMERIC")
    );
    let untyped = c
        .get("/v2/storage/tables/in.c-budget.budget_lines", t)
        .json();
    assert!(untyped.get("definition").is_none());
    assert_eq!(
        untyped["primaryKey"],
        json!(["month", "department", "category"])
    );
}

#[test]
fn data_preview_filters() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let p = "/v2/storage/tables/in.c-crm.customers/data-preview";
    let resp = c.get(&format!("{p}?limit=2&columns=id,country"), t);
    assert_eq!(resp.status, 200);
    assert!(resp.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = resp.text.lines().collect();
    assert_eq!(lines[0], "\"id\",\"country\"");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("\"1\","));

    let default = c.get(p, t);
    assert_eq!(default.text.lines().count(), 101, "100 rows by default");

    let cz = c.get(
        &format!("{p}?columns=country&whereColumn=country&whereValues[]=CZ&limit=1000"),
        t,
    );
    let rows: Vec<&str> = cz.text.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| *r == "\"CZ\""));
    let not_cz = c.get(
        &format!(
            "{p}?columns=country&whereColumn=country&whereValues[]=CZ&whereOperator=ne&limit=1000"
        ),
        t,
    );
    let others: Vec<&str> = not_cz.text.lines().skip(1).collect();
    assert_eq!(rows.len() + others.len(), 500);
    assert!(others.iter().all(|r| *r != "\"CZ\""));

    let json = c
        .get(&format!("{p}?limit=1&format=json&columns=id,name"), t)
        .json();
    assert_eq!(json["columns"], json!(["id", "name"]));
    assert_eq!(
        json["rows"][0][0],
        json!({"columnName": "id", "value": "1", "isTruncated": false})
    );

    let too_many = c.get(&format!("{p}?limit=1200"), t);
    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.json()["code"], "storage.tables.validation");
    let future = c.get(&format!("{p}?changedSince=4102444800"), t);
    assert_eq!(
        future.text.lines().count(),
        1,
        "nothing changed after 2100: {}",
        future.text
    );
    let past = c.get(&format!("{p}?changedSince=-10000%20days&limit=3"), t);
    assert_eq!(past.text.lines().count(), 4);
    assert_eq!(
        c.get("/v2/storage/tables/in.c-crm.nope/data-preview", t)
            .status,
        404
    );
}

#[test]
fn typed_tables_columns_rows_and_drop() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let create = c.post_json(
        "/v2/storage/buckets/out.c-reports/tables-definition",
        t,
        &json!({"name": "daily", "primaryKeysNames": ["day"], "columns": [
            {"name": "day", "definition": {"type": "DATE"}},
            {"name": "total", "definition": {"type": "INT"}},
            {"name": "note", "basetype": "STRING"}
        ]}),
    );
    let job = create.json();
    assert_eq!(job["status"], "waiting");
    assert_eq!(job["operationName"], "tableDefinitionCreate");
    let table = job_results(&c, t, &create);
    assert_eq!(table["id"], "out.c-reports.daily");
    assert_eq!(
        table["definition"]["columns"][0]["definition"],
        json!({"type": "DATE", "nullable": false})
    );
    assert_eq!(
        table["definition"]["columns"][1]["definition"],
        json!({"type": "NUMBER", "nullable": true, "length": "38,0"})
    );
    assert_eq!(
        table["definition"]["columns"][2]["definition"]["type"],
        "VARCHAR"
    );

    let add = c.post_json(
        "/v2/storage/tables/out.c-reports.daily/columns",
        t,
        &json!({"name": "extra", "definition": {"type": "VARCHAR"}}),
    );
    assert_eq!(
        job_results(&c, t, &add)["columns"],
        json!(["day", "total", "note", "extra"])
    );
    let del = c.delete("/v2/storage/tables/out.c-reports.daily/columns/note", t);
    assert_eq!(
        job_results(&c, t, &del)["columns"],
        json!(["day", "total", "extra"])
    );
    let pk = c.delete("/v2/storage/tables/out.c-reports.daily/columns/day", t);
    assert_eq!(pk.status, 400);

    let unintended = c.send_json(
        "DELETE",
        "/v2/storage/tables/in.c-crm.orders/rows",
        t,
        &json!({}),
    );
    assert_eq!(
        unintended.json()["code"],
        "storage.tables.validation.unintendedTruncation"
    );
    let some = c.send_json(
        "DELETE",
        "/v2/storage/tables/in.c-crm.orders/rows",
        t,
        &json!({"whereFilters": [{"column": "status", "operator": "eq", "values": ["cancelled"]}]}),
    );
    let deleted = job_results(&c, t, &some)["deletedRows"].as_u64().unwrap();
    assert!(deleted > 0);
    let left = c.get("/v2/storage/tables/in.c-crm.orders", t).json()["rowsCount"]
        .as_u64()
        .unwrap();
    assert_eq!(left, 2000 - deleted);
    let truncate = c.send_json(
        "DELETE",
        "/v2/storage/tables/in.c-crm.orders/rows",
        t,
        &json!({"allowTruncate": true}),
    );
    assert_eq!(job_results(&c, t, &truncate)["deletedRows"], left);
    assert_eq!(
        c.get("/v2/storage/tables/in.c-crm.orders", t).json()["rowsCount"],
        0
    );

    let meta = c.post_json(
        "/v2/storage/tables/in.c-crm.orders/metadata",
        t,
        &json!({"provider": "user", "metadata": [{"key": "KBC.description", "value": "Orders"}],
                "columnsMetadata": {"status": [{"key": "KBC.description", "value": "Order state"}]}}),
    );
    assert_eq!(meta.status, 201, "{}", meta.text);
    let meta = meta.json();
    assert!(
        meta["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["value"] == "Orders")
    );
    assert!(
        meta["columnsMetadata"]["status"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["provider"] == "user" && m["value"] == "Order state"),
        "{meta}"
    );

    let drop = c.delete("/v2/storage/tables/out.c-reports.daily?async=true", t);
    assert_eq!(wait_job(&c, t, &drop)["status"], "success");
    assert_eq!(
        c.get("/v2/storage/tables/out.c-reports.daily", t).status,
        404
    );
    let ro = &emu.projects()[0].tokens.read_only;
    assert_eq!(
        c.delete("/v2/storage/tables/in.c-crm.customers?async=true", ro)
            .status,
        403
    );
}

#[test]
fn primary_keys_order_and_metadata_entries() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let top = c.get(
        "/v2/storage/tables/in.c-crm.orders/data-preview?columns=amount&limit=3&orderBy[0][column]=amount&orderBy[0][order]=DESC&orderBy[0][dataType]=DOUBLE",
        t,
    );
    assert_eq!(top.status, 200, "{}", top.text);
    let amounts: Vec<f64> = top
        .text
        .lines()
        .skip(1)
        .map(|l| l.trim_matches('"').parse().unwrap())
        .collect();
    assert_eq!(amounts.len(), 3);
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "{amounts:?}");
    let all = c.get(
        "/v2/storage/tables/in.c-crm.orders/data-preview?columns=amount&limit=1000",
        t,
    );
    let first_rows: Vec<f64> = all
        .text
        .lines()
        .skip(1)
        .map(|l| l.trim_matches('"').parse().unwrap())
        .collect();
    assert_eq!(first_rows.len(), 1000);
    assert!(
        first_rows.iter().all(|a| *a <= amounts[0]),
        "the largest amount comes first"
    );

    // Dropping and setting the primary key; duplicates fail the job.
    let drop = c.delete("/v2/storage/tables/in.c-crm.customers/primary-key", t);
    assert_eq!(job_results(&c, t, &drop)["primaryKey"], json!([]));
    let dup = c.post_json(
        "/v2/storage/tables/in.c-crm.customers/primary-key",
        t,
        &json!({"columns": ["country"]}),
    );
    let job = wait_job(&c, t, &dup);
    assert_eq!(
        job["error"]["code"], "storage.tables.primaryKeyDuplicateValues",
        "{job}"
    );
    let set = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.customers/primary-key",
        t,
        "columns[]=id",
    );
    assert_eq!(job_results(&c, t, &set)["primaryKey"], json!(["id"]));
    let twice = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.customers/primary-key",
        t,
        "columns[]=email",
    );
    assert_eq!(twice.status, 400);

    // Column metadata and deleting single entries.
    let posted = c.post_json(
        "/v2/storage/columns/in.c-crm.customers.email/metadata",
        t,
        &json!({"provider": "user", "metadata": [{"key": "KBC.description", "value": "Work e-mail"}]}),
    );
    assert_eq!(posted.status, 201, "{}", posted.text);
    let entry = posted
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider"] == "user")
        .cloned()
        .unwrap();
    assert_eq!(entry["value"], "Work e-mail");
    let listed = c
        .get("/v2/storage/columns/in.c-crm.customers.email/metadata", t)
        .json();
    assert!(listed.as_array().unwrap().contains(&entry));
    let path = format!(
        "/v2/storage/columns/in.c-crm.customers.email/metadata/{}",
        entry["id"].as_str().unwrap()
    );
    assert_eq!(c.delete(&path, t).status, 204);
    assert_eq!(
        c.delete(&path, t).json()["code"],
        "storage.metadata.notFound"
    );
    assert_eq!(
        c.get("/v2/storage/columns/in.c-crm.customers.nope/metadata", t)
            .status,
        404
    );

    let bucket_meta = c.get("/v2/storage/buckets/in.c-crm/metadata", t).json();
    let id = bucket_meta[0]["id"].as_str().unwrap();
    assert_eq!(
        c.delete(&format!("/v2/storage/buckets/in.c-crm/metadata/{id}"), t)
            .status,
        204
    );
    assert_eq!(
        c.get("/v2/storage/buckets/in.c-crm/metadata", t).json(),
        json!([])
    );
    let table_meta = c
        .get("/v2/storage/tables/in.c-crm.orders/metadata", t)
        .json();
    let user = table_meta
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider"] == "user")
        .unwrap();
    let path = format!(
        "/v2/storage/tables/in.c-crm.orders/metadata/{}",
        user["id"].as_str().unwrap()
    );
    assert_eq!(c.delete(&path, t).status, 204);
}
