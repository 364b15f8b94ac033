//! The observed data a calibration fits: a CSV file, one row per date, one column per series.
//!
//! ```text
//! # lines starting with '#' are comments (say where the data came from)
//! date,market.gmv,category.short_drama.opens,plans.我的剧.clips
//! 2024-03-01,3460.04,2262,95
//! 2024-03-02,,2301,97        <- an empty cell is a missing value
//! ```
//! Money columns (gmv, refunds, platform_fees, commission, commission_*, subsidies, ad_money,
//! ad_spend, operator_net) are RMB a day; the rest are counts a day. Dates are calendar dates in
//! the scenario's window (`scenario.start_date` is day 0), increasing; days may be left out.

use crate::base::calendar::Date;
use crate::model::series::SeriesKey;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};

/// A bad observed file, naming the file, line and column (1-based) of the problem.
#[derive(Debug, thiserror::Error)]
pub enum ObservedError {
    #[error("cannot read observed data file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: line {line}, column {column}: {message}")]
    Bad { path: PathBuf, line: usize, column: usize, message: String },
}

/// The observed series, on the days of the scenario's calendar.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// Column names as in the file's header, and their parsed keys.
    pub names: Vec<String>,
    pub keys: Vec<SeriesKey>,
    /// Simulation day of each row (increasing).
    pub days: Vec<u32>,
    /// `values[series][row]`; `None` where the cell was empty.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Observed {
    /// The last observed day plus one: how many days a simulation must run to cover the data.
    pub fn horizon_days(&self) -> u32 {
        self.days.last().map_or(0, |d| d + 1)
    }

    /// The index of a series by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The file again, canonical: what a result folder keeps beside the fit.
    pub fn to_csv(&self, s: &Scenario) -> String {
        let mut out = String::from("date");
        for n in &self.names {
            out.push(',');
            out.push_str(&crate::report::output::csv_field(n));
        }
        out.push('\n');
        for (r, day) in self.days.iter().enumerate() {
            out.push_str(&s.date(*day).to_string());
            for col in &self.values {
                out.push(',');
                if let Some(v) = col[r] {
                    out.push_str(&format!("{v}"));
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Reads an observed file against scenario `s` (its calendar and categories).
pub fn read(path: &Path, s: &Scenario) -> Result<Observed, ObservedError> {
    let text = std::fs::read_to_string(path).map_err(|source| ObservedError::Read { path: path.to_owned(), source })?;
    parse(&text, path, s)
}

/// Splits one CSV line into fields with the column (1-based, in characters) each starts at;
/// quoted fields may hold commas and doubled quotes.
fn fields(line: &str) -> Result<Vec<(usize, String)>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let start = i + 1;
        let mut f = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err((start, "a quoted field is not closed".into())),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        f.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        f.push(*c);
                        i += 1;
                    }
                }
            }
            if !matches!(chars.get(i), None | Some(',')) {
                return Err((i + 1, "text after a closing quote".into()));
            }
        } else {
            while let Some(c) = chars.get(i).filter(|c| **c != ',') {
                f.push(*c);
                i += 1;
            }
        }
        out.push((start, f));
        if chars.get(i) == Some(&',') {
            i += 1;
        } else {
            return Ok(out);
        }
    }
}

/// [`read`] for text already read; `path` names the file in messages.
pub fn parse(text: &str, path: &Path, s: &Scenario) -> Result<Observed, ObservedError> {
    let bad = |line: usize, column: usize, message: String| ObservedError::Bad {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Err(bad(1, 1, "the file has no header row (date, then one column per series)".into()));
    };
    let head = fields(header).map_err(|(c, m)| bad(hline, c, m))?;
    if head[0].1.trim() != "date" {
        return Err(bad(hline, 1, format!("the first column must be `date`, got `{}`", head[0].1.trim())));
    }
    if head.len() < 2 {
        return Err(bad(hline, 1, "no series: add columns such as market.gmv or category.short_drama.opens".into()));
    }
    let mut names = Vec::new();
    let mut keys = Vec::new();
    for (col, name) in &head[1..] {
        let name = name.trim().to_owned();
        if names.contains(&name) {
            return Err(bad(hline, *col, format!("the series `{name}` appears twice")));
        }
        let key = SeriesKey::parse(&name).map_err(|m| bad(hline, *col, m))?;
        key.check(s).map_err(|m| bad(hline, *col, m))?;
        names.push(name);
        keys.push(key);
    }
    let first = s.start;
    let last = s.date(s.days.saturating_sub(1));
    let mut days: Vec<u32> = Vec::new();
    let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); names.len()];
    for (ln, line) in lines {
        let row = fields(line).map_err(|(c, m)| bad(ln, c, m))?;
        if row.len() != head.len() {
            let col = row.last().map_or(1, |(c, _)| *c);
            return Err(bad(ln, col, format!("{} fields, but the header has {}", row.len(), head.len())));
        }
        let (dcol, dtext) = &row[0];
        let date =
            Date::parse(dtext).ok_or_else(|| bad(ln, *dcol, format!("`{}` is not a date YYYY-MM-DD", dtext.trim())))?;
        if date < first || date > last {
            return Err(bad(
                ln,
                *dcol,
                format!("{date} is outside the scenario's calendar ({first} to {last}, scenario.start_date and scenario.days)"),
            ));
        }
        let day = (date.0 - first.0) as u32;
        if let Some(prev) = days.last().filter(|p| **p >= day) {
            return Err(bad(ln, *dcol, format!("{date} does not come after the previous row's {}", s.date(*prev))));
        }
        days.push(day);
        for (k, (col, cell)) in row[1..].iter().enumerate() {
            let cell = cell.trim();
            if cell.is_empty() {
                values[k].push(None);
                continue;
            }
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => values[k].push(Some(v)),
                _ => {
                    return Err(bad(
                        ln,
                        *col,
                        format!(
                            "`{}`: `{cell}` is not a number >= 0 (leave the cell empty if the day is missing)",
                            names[k]
                        ),
                    ))
                }
            }
        }
    }
    if days.is_empty() {
        return Err(bad(hline, 1, "the file has a header but no rows of data".into()));
    }
    if let Some(k) = values.iter().position(|col| col.iter().all(Option::is_none)) {
        return Err(bad(hline, head[k + 1].0, format!("the series `{}` has no values", names[k])));
    }
    Ok(Observed { names, keys, days, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        crate::scenario::parse("[scenario]\nstart_date = 2024-03-01\ndays = 20\n", "t").unwrap()
    }

    fn err(text: &str) -> String {
        parse(text, Path::new("obs.csv"), &scenario()).unwrap_err().to_string()
    }

    #[test]
    fn reads_dates_gaps_and_comments() {
        let t = "# synthetic\ndate,market.gmv,category.novel.opens\n2024-03-01,1.5,3\n2024-03-03,,4\n";
        let o = parse(t, Path::new("x"), &scenario()).unwrap();
        assert_eq!(o.days, vec![0, 2]);
        assert_eq!(o.values[0], vec![Some(1.5), None]);
        assert_eq!(o.horizon_days(), 3);
        assert_eq!(parse(&o.to_csv(&scenario()), Path::new("x"), &scenario()).unwrap(), o);
    }

    #[test]
    fn names_line_and_column_of_each_fault() {
        assert_eq!(err("date,market.gmv\n2024-03-01,abc\n"), "obs.csv: line 2, column 12: `market.gmv`: `abc` is not a number >= 0 (leave the cell empty if the day is missing)");
        assert!(err("date,market.gvm\n").contains("line 1, column 6: unknown metric `gvm` (did you mean `gmv`?)"));
        assert!(err("date,market.gmv\n2024-02-01,1\n").contains("line 2, column 1: 2024-02-01 is outside"));
        assert!(err("date,market.gmv\n2024-03-02,1\n2024-03-01,1\n")
            .contains("line 3, column 1: 2024-03-01 does not come after"));
        assert!(err("date,market.gmv\n2024-03-02\n").contains("line 2, column 1: 1 fields, but the header has 2"));
        assert!(err("day,market.gmv\n").contains("line 1, column 1: the first column must be `date`"));
        assert!(err("date,category.drama.gmv\n2024-03-01,1\n").contains("no category `drama`"));
        assert!(err("date,market.gmv\n2024-03-01,\n").contains("has no values"));
    }
}
