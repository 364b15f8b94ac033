//! Reading the earnings column of creators.csv fast (up to a million rows): chunks
//! parsed in parallel, then a parallel sort.

use std::path::Path;

use rayon::prelude::*;

use super::data::{csv_err, io_err};
use super::ChartError;

/// Chunks smaller than this are not split further.
const MIN_CHUNK: usize = 1 << 20;

/// Reads the earnings of every creator from creators.csv (the `earnings` column, or
/// `commission_settled + subsidies` when there is none) and returns them sorted
/// ascending. The result does not depend on how the file was split into chunks.
pub fn read_earnings(path: &Path) -> Result<Vec<f64>, ChartError> {
    read_earnings_in_chunks(path, MIN_CHUNK)
}

/// [`read_earnings`] with chunks of at least `min_chunk` bytes.
fn read_earnings_in_chunks(path: &Path, min_chunk: usize) -> Result<Vec<f64>, ChartError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_err(path, &e))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let missing = |name: &str| ChartError::MissingColumn { path: path.to_path_buf(), column: name.to_string() };
    let cols: Vec<usize> = match find("earnings") {
        Some(i) => vec![i],
        None => vec![
            find("commission_settled").ok_or_else(|| missing("commission_settled"))?,
            find("subsidies").ok_or_else(|| missing("subsidies"))?,
        ],
    };
    let body_start = reader.position().byte() as usize;
    let body = &bytes[body_start.min(bytes.len())..];

    // Quoted fields may hold newlines, so only split files without quotes.
    let chunks = if body.contains(&b'"') {
        vec![(0, body.len())]
    } else {
        split_at_newlines(body, rayon::current_num_threads() * 4, min_chunk)
    };
    let parsed: Vec<Result<Vec<f64>, ChartError>> = chunks
        .par_iter()
        .map(|&(a, b)| {
            parse_chunk(&body[a..b], &cols, &headers).map_err(|(line, message)| {
                // Line in the file: the header, the lines before the chunk, then `line`.
                let before = bytes[..body_start + a].iter().filter(|&&c| c == b'\n').count() as u64;
                ChartError::BadRow { path: path.to_path_buf(), line: before + line, message }
            })
        })
        .collect();
    let mut out = Vec::new();
    for chunk in parsed {
        out.extend(chunk?);
    }
    out.par_sort_unstable_by(f64::total_cmp);
    Ok(out)
}

/// Splits `body` into about `parts` ranges of at least `min_chunk` bytes that each end
/// just after a newline (or at the end).
fn split_at_newlines(body: &[u8], parts: usize, min_chunk: usize) -> Vec<(usize, usize)> {
    let size = (body.len() / parts.max(1)).max(min_chunk).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < body.len() {
        let mut end = (start + size).min(body.len());
        if end < body.len() {
            end = match body[end..].iter().position(|&c| c == b'\n') {
                Some(i) => end + i + 1,
                None => body.len(),
            };
        }
        out.push((start, end));
        start = end;
    }
    out
}

/// Parses one chunk of data rows; errors carry the line within the chunk (1-based).
fn parse_chunk(chunk: &[u8], cols: &[usize], headers: &[String]) -> Result<Vec<f64>, (u64, String)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(chunk);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::with_capacity(chunk.len() / 40);
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(false) => return Ok(out),
            Ok(true) => {
                let line = rec.position().map_or(0, |p| p.line());
                if rec.len() != headers.len() {
                    return Err((
                        line,
                        format!("found record with {} fields, but the header has {}", rec.len(), headers.len()),
                    ));
                }
                let mut total = 0.0;
                for &i in cols {
                    let field = rec.get(i).unwrap_or(b"");
                    let v = std::str::from_utf8(field)
                        .ok()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            (
                                line,
                                format!(
                                    "column `{}`: `{}` is not a number",
                                    headers[i],
                                    String::from_utf8_lossy(field)
                                ),
                            )
                        })?;
                    total += v;
                }
                out.push(total);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err((line, e.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn write_creators(rows: usize, bad_row: Option<usize>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creators.csv");
        let mut text = String::from("creator,commission_settled,subsidies\n");
        for i in 0..rows {
            if Some(i) == bad_row {
                text.push_str(&format!("c{i},oops,1.00\n"));
            } else {
                text.push_str(&format!("c{i},{}.{:02},{}\n", (i * 7919) % 1000, i % 100, i % 3));
            }
        }
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn chunks_cover_the_body_and_end_at_newlines() {
        let body = b"a,1\nb,2\nc,3\nd,4\ne,5";
        for min in [1, 3, 5, 100] {
            let chunks = split_at_newlines(body, 4, min);
            assert_eq!(chunks.first().unwrap().0, 0);
            assert_eq!(chunks.last().unwrap().1, body.len());
            for w in chunks.windows(2) {
                assert_eq!(w[0].1, w[1].0);
                assert_eq!(body[w[0].1 - 1], b'\n');
            }
        }
    }

    #[test]
    fn chunked_and_whole_reads_agree() {
        let (_dir, path) = write_creators(5000, None);
        let whole = read_earnings_in_chunks(&path, usize::MAX).unwrap();
        let chunked = read_earnings_in_chunks(&path, 256).unwrap();
        assert_eq!(whole.len(), 5000);
        assert!(whole == chunked);
        assert!(whole.windows(2).all(|w| w[0] <= w[1]));
        // No earnings column: commission_settled + subsidies.
        assert_eq!(whole[0], 0.0);
    }

    #[test]
    fn bad_rows_report_file_lines_from_any_chunk() {
        for bad in [0, 1, 2500, 4999] {
            let (_dir, path) = write_creators(5000, Some(bad));
            match read_earnings_in_chunks(&path, 256) {
                Err(ChartError::BadRow { line, .. }) => assert_eq!(line, bad as u64 + 2),
                other => panic!("expected BadRow, got {other:?}"),
            }
        }
    }
}
