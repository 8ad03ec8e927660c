//! Table export to one CSV stream: export-async, the job, then the download.

use std::io::Write;

use crate::error::ApiError;
use crate::storage::StorageClient;
use crate::storage::tables::ExportOptions;

use super::{ExportSummary, ExportTable, TransferConfig, TransferError};

impl StorageClient {
    /// Exports a table to `out` as CSV with a header line: export-async, the job, the
    /// file with its credentials, every slice gunzipped in order. Never buffers the
    /// table; the export call (a POST) is sent once.
    pub fn export_table_to(
        &self,
        table_id: &str,
        out: &mut dyn Write,
        opts: &ExportTable,
        cfg: &TransferConfig,
    ) -> Result<ExportSummary, TransferError> {
        if opts.export.file_type.as_deref().is_some_and(|t| t != "csv") {
            // Slices of other formats are files of their own; joined they are not one.
            return Err(ApiError::config(
                "only CSV exports can be written as one file; export other formats with export_async",
            )
            .into());
        }
        let columns = if opts.export.columns.is_empty() {
            self.get_table(table_id)?.columns
        } else {
            opts.export.columns.clone()
        };
        let export = ExportOptions {
            gzip: true,
            ..opts.export.clone()
        };
        let job = self.export_async(table_id, &export)?;
        let job = self.finish_job(job, &opts.wait)?;
        let file_id = job.result_id("/file/id").ok_or_else(|| {
            ApiError::invalid_response(
                "GET",
                &format!("/v2/storage/jobs/{}", job.id),
                "the export job names no file (results.file.id)",
            )
        })?;
        let file = self.get_file(&file_id)?;
        let mut bytes = 0;
        if !opts.without_header {
            let header = header_line(&columns);
            out.write_all(header.as_bytes())
                .map_err(TransferError::Local)?;
            bytes += header.len() as u64;
        }
        bytes += self.download_file_to(&file, out, true, cfg)?;
        out.flush().map_err(TransferError::Local)?;
        Ok(ExportSummary {
            file_id,
            columns,
            bytes,
            job,
        })
    }
}

/// The header line of an export: every name quoted, quotes doubled.
fn header_line(columns: &[String]) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect();
    format!("{}\n", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_quotes_names() {
        assert_eq!(
            header_line(&["id".to_owned(), "say \"x\"".to_owned()]),
            "\"id\",\"say \"\"x\"\"\"\n"
        );
    }
}
