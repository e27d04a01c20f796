//! Athena's result object: the CSV file a query writes to its result location. Every value is
//! quoted (`"a ""b"""`), a NULL is an empty unquoted field, the first record is the header.
//! Parsed in one pass into cell ranges over the file, so a large result is read without one
//! allocation per cell.

use super::EngineError;

#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    /// A range of the file (no escaped quotes inside).
    File(u32, u32),
    /// A range of the unescaped side buffer.
    Unescaped(u32, u32),
}

/// Finds where the first records of a result object end while it streams in, so a read can
/// stop at a row cap: records end at a line feed outside quotes (a quoted value may hold one).
#[derive(Debug, Default)]
pub struct RecordEnds {
    in_quotes: bool,
    records: usize,
}

impl RecordEnds {
    /// Feeds the next chunk; returns the offset in it just past the end of record number
    /// `max` (counting from 1, the header included) once that record is complete.
    pub fn feed(&mut self, chunk: &[u8], max: usize) -> Option<usize> {
        for (i, b) in chunk.iter().enumerate() {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => {
                    self.records += 1;
                    if self.records >= max {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// A parsed result object: rows of text cells, the header removed.
#[derive(Debug)]
pub struct ResultCsv {
    text: String,
    unescaped: String,
    cells: Vec<Cell>,
    columns: usize,
}

impl ResultCsv {
    /// Parses a result object with `columns` columns. A record with another number of fields
    /// or an unterminated quote is an error that names the record.
    pub fn parse(bytes: Vec<u8>, columns: usize) -> Result<Self, EngineError> {
        let text = String::from_utf8(bytes)
            .map_err(|e| EngineError::ResultObject(format!("it is not UTF-8 ({e})")))?;
        if text.len() > u32::MAX as usize {
            return Err(EngineError::ResultObject(
                "it is larger than 4 GiB; narrow the query".into(),
            ));
        }
        let mut unescaped = String::new();
        let mut cells = Vec::new();
        let b = text.as_bytes();
        let (mut i, mut record, mut in_record) = (0usize, 0usize, 0usize);
        let bad = |record: usize, what: &str| {
            EngineError::ResultObject(format!("record {} is malformed: {what}", record + 1))
        };
        while i < b.len() {
            // One field.
            let cell = if b[i] == b'"' {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                loop {
                    match b.get(j) {
                        None => return Err(bad(record, "a quote is not closed")),
                        Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                            escaped = true;
                            j += 2;
                        }
                        Some(b'"') => break,
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
                if escaped {
                    let from = unescaped.len() as u32;
                    unescaped.push_str(&text[start..j].replace("\"\"", "\""));
                    Cell::Unescaped(from, unescaped.len() as u32)
                } else {
                    Cell::File(start as u32, j as u32)
                }
            } else {
                let start = i;
                while i < b.len() && !matches!(b[i], b',' | b'\n' | b'\r') {
                    i += 1;
                }
                if i == start {
                    Cell::Null
                } else {
                    Cell::File(start as u32, i as u32)
                }
            };
            cells.push(cell);
            in_record += 1;
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'\r') | Some(b'\n') | None => {
                    if b.get(i) == Some(&b'\r') {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                    if in_record != columns {
                        return Err(bad(
                            record,
                            &format!("{in_record} field(s) where the result has {columns} columns"),
                        ));
                    }
                    record += 1;
                    in_record = 0;
                }
                Some(_) => return Err(bad(record, "text after a closing quote")),
            }
        }
        if in_record != 0 {
            return Err(bad(record, "the file ends inside a record"));
        }
        // The header record.
        cells.drain(..columns.min(cells.len()));
        Ok(ResultCsv {
            text,
            unescaped,
            cells,
            columns,
        })
    }

    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.cells.len().checked_div(self.columns).unwrap_or(0)
    }

    /// The text of a cell; None for NULL.
    pub fn cell(&self, row: usize, column: usize) -> Option<&str> {
        match self.cells[row * self.columns + column] {
            Cell::Null => None,
            Cell::File(a, b) => Some(&self.text[a as usize..b as usize]),
            Cell::Unescaped(a, b) => Some(&self.unescaped[a as usize..b as usize]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_nulls_and_escapes() {
        let csv = "\"a\",\"b\",\"c\"\n\"1\",,\"x \"\"y\"\"\"\n\"\",\"2\",\"line\nbreak, comma\"\n";
        let t = ResultCsv::parse(csv.as_bytes().to_vec(), 3).unwrap();
        assert_eq!(t.rows(), 2);
        let row = |r| (0..3).map(|c| t.cell(r, c)).collect::<Vec<_>>();
        assert_eq!(row(0), [Some("1"), None, Some("x \"y\"")]);
        assert_eq!(row(1), [Some(""), Some("2"), Some("line\nbreak, comma")]);
    }

    #[test]
    fn crlf_and_a_missing_final_newline() {
        let t = ResultCsv::parse(b"\"a\"\r\n\"1\"\r\n\"2\"".to_vec(), 1).unwrap();
        assert_eq!((t.rows(), t.cell(1, 0)), (2, Some("2")));
    }

    #[test]
    fn record_ends_stop_after_the_asked_record_whatever_the_chunks() {
        let object = b"\"a\",\"b\"\n\"1\",\"x\ny\"\n\"2\",\"\"\"\"\n\"3\",\n";
        for chunk in 1..object.len() {
            let mut ends = RecordEnds::default();
            let mut read = 0;
            let cut = object.chunks(chunk).find_map(|c| {
                let end = ends.feed(c, 3).map(|e| read + e);
                read += c.len();
                end
            });
            // The header and two rows; the quoted line feed and the escaped quotes do not end one.
            assert_eq!(cut, Some(object.len() - 5), "chunks of {chunk}");
        }
    }

    #[test]
    fn malformed_records_are_named() {
        let e = ResultCsv::parse(b"\"a\",\"b\"\n\"1\"\n".to_vec(), 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Athena's result object could not be read: record 2 is malformed: 1 field(s) where the result has 2 columns"
        );
        let e = ResultCsv::parse(b"\"a\"\n\"1".to_vec(), 1).unwrap_err();
        assert!(e
            .to_string()
            .ends_with("record 2 is malformed: a quote is not closed"));
    }
}
