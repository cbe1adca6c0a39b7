//! The CSV layer of the loaders: bytes in, records of byte fields out (RFC 4180: comma-separated,
//! fields optionally in double quotes, `""` for a quote inside a quoted field, commas and line
//! breaks allowed inside quotes, CRLF or LF line ends, an optional UTF-8 byte-order mark).
//! Physical lines that begin with `#` are comments. Line numbers count physical lines; a
//! record's number is the line it starts on. A record longer than the limit is taken for an
//! unbalanced quote and skipped to the next line end, so one bad row cannot swallow the file.

use std::io::{self, Read};

/// A buffered byte source that counts what it has consumed.
pub(super) struct Bytes<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    pub(super) consumed: u64,
}

impl<R: Read> Bytes<R> {
    pub(super) fn new(inner: R) -> io::Result<Self> {
        let mut bytes = Bytes {
            inner,
            buf: vec![0; 64 * 1024].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            consumed: 0,
        };
        // Skip a UTF-8 byte-order mark: make sure 3 bytes are there (or the end).
        while bytes.len < 3 && !bytes.eof {
            let len = bytes.len;
            match bytes.inner.read(&mut bytes.buf[len..]) {
                Ok(0) => bytes.eof = true,
                Ok(n) => bytes.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if bytes.buf[..bytes.len].starts_with(b"\xEF\xBB\xBF") {
            bytes.pos = 3;
            bytes.consumed = 3;
        }
        Ok(bytes)
    }

    #[inline]
    fn next(&mut self) -> io::Result<Option<u8>> {
        if self.pos == self.len {
            if self.eof {
                return Ok(None);
            }
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(0) => {
                        self.eof = true;
                        return Ok(None);
                    }
                    Ok(n) => {
                        self.pos = 0;
                        self.len = n;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        self.consumed += 1;
        Ok(Some(b))
    }
}

/// One record of the file.
pub(super) enum Raw {
    Fields { line: u64, fields: Vec<Vec<u8>> },
    Comment { line: u64 },
    Broken { line: u64, reason: String },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    Start,
    /// In an unquoted field (or after a quoted one: what follows is taken literally).
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// A quote inside quotes: either the first of `""` or the end of the quoted part.
    QuoteSeen,
}

pub(super) struct Records<R> {
    pub(super) src: Bytes<R>,
    /// The physical line the next byte is on.
    pub(super) line: u64,
    /// Set after a read error: nothing more comes.
    pub(super) done: bool,
    pub(super) max_record: usize,
}

impl<R: Read> Records<R> {
    /// The next record; `Err` is a read error (after which the reader is done).
    pub(super) fn next_record(&mut self) -> Result<Option<Raw>, (u64, io::Error)> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_record();
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn byte(&mut self) -> Result<Option<u8>, (u64, io::Error)> {
        let line = self.line;
        let b = self.src.next().map_err(|e| (line, e))?;
        if b == Some(b'\n') {
            self.line += 1;
        }
        Ok(b)
    }

    fn read_record(&mut self) -> Result<Option<Raw>, (u64, io::Error)> {
        let line = self.line;
        let mut fields: Vec<Vec<u8>> = Vec::new();
        let mut field: Vec<u8> = Vec::new();
        let mut state = State::Start;
        let mut any = false;
        let mut pending_cr = false;
        let mut size = 0usize;
        while let Some(b) = self.byte()? {
            any = true;
            size += 1;
            if size > self.max_record {
                if b != b'\n' {
                    self.skip_line()?;
                }
                return Ok(Some(Raw::Broken {
                    line,
                    reason: format!(
                        "line {line}: a record longer than {} bytes (an unbalanced quote?); \
                         skipped through line {}",
                        self.max_record,
                        self.line - 1
                    ),
                }));
            }
            if pending_cr {
                pending_cr = false;
                if b == b'\n' {
                    fields.push(field);
                    return Ok(Some(Raw::Fields { line, fields }));
                }
                field.push(b'\r');
                if state == State::Start {
                    state = State::Unquoted;
                }
            }
            match state {
                State::Start => match b {
                    b'"' => state = State::Quoted,
                    b',' => fields.push(Vec::new()),
                    b'\n' => {
                        fields.push(field);
                        return Ok(Some(Raw::Fields { line, fields }));
                    }
                    b'\r' => pending_cr = true,
                    b'#' if fields.is_empty() => {
                        self.skip_line()?;
                        return Ok(Some(Raw::Comment { line }));
                    }
                    _ => {
                        field.push(b);
                        state = State::Unquoted;
                    }
                },
                State::Unquoted => match b {
                    b',' => {
                        fields.push(std::mem::take(&mut field));
                        state = State::Start;
                    }
                    b'\n' => {
                        fields.push(field);
                        return Ok(Some(Raw::Fields { line, fields }));
                    }
                    b'\r' => pending_cr = true,
                    _ => field.push(b),
                },
                State::Quoted => match b {
                    b'"' => state = State::QuoteSeen,
                    _ => field.push(b),
                },
                State::QuoteSeen => match b {
                    b'"' => {
                        field.push(b'"');
                        state = State::Quoted;
                    }
                    b',' => {
                        fields.push(std::mem::take(&mut field));
                        state = State::Start;
                    }
                    b'\n' => {
                        fields.push(field);
                        return Ok(Some(Raw::Fields { line, fields }));
                    }
                    b'\r' => {
                        pending_cr = true;
                        state = State::Unquoted;
                    }
                    _ => {
                        field.push(b);
                        state = State::Unquoted;
                    }
                },
            }
        }
        if !any {
            return Ok(None);
        }
        if state == State::Quoted {
            return Ok(Some(Raw::Broken {
                line,
                reason: format!(
                    "line {line}: a quoted field is never closed (the file ends on line {})",
                    self.line
                ),
            }));
        }
        fields.push(field);
        Ok(Some(Raw::Fields { line, fields }))
    }

    /// Consumes through the next line end.
    fn skip_line(&mut self) -> Result<(), (u64, io::Error)> {
        while let Some(b) = self.byte()? {
            if b == b'\n' {
                break;
            }
        }
        Ok(())
    }
}
