package csvdata

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Options says how to read a file. The zero value reads comma-separated
// records without a header, with no limits.
type Options struct {
	// Comma separates fields: ',' or '\t'. Zero means ',' for Read, and for
	// ReadFile '\t' when the file name ends in .tsv or .tab, ',' otherwise.
	Comma rune
	// Header says the first record (after SkipLines) names the columns.
	// Without it columns are named c0, c1, .... Header names are trimmed
	// of spaces; an empty one is
	// replaced by c<index>; a name that appears twice is an error.
	Header bool
	// Comment, if not zero, starts a comment line: a line beginning with it
	// is ignored. It must differ from Comma.
	Comment rune
	// SkipLines physical lines at the start of the file are not parsed as
	// CSV but kept in Table.Preamble (the scikit-learn files need 1).
	SkipLines int
	// MaxRecords, if positive, is the most data records (not counting the
	// header) the file may hold; more is an error, not a truncation.
	MaxRecords int
	// MaxBytes, if positive, is the most bytes read from the input; a larger
	// input is an error. With MaxRecords it bounds a Table's memory.
	MaxBytes int64
}

// Table is a whole CSV/TSV file as strings, one slice per column.
type Table struct {
	// File is the name errors use.
	File string
	// Preamble holds the lines skipped by Options.SkipLines, without their
	// line endings.
	Preamble []string

	names []string   // column names, unique
	cols  [][]string // cols[j][i] is field j of record i
	lines []int      // lines[i] is the physical line record i starts on
	// multi holds, for records spanning several physical lines (quoted
	// newlines), the line of each field.
	multi map[int][]int
}

// ReadFile reads the file at path with opts; errors name the file by path.
// A zero opts.Comma is chosen from the extension: .tsv and .tab mean tab.
func ReadFile(path string, opts Options) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opts.Comma == 0 {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".tsv", ".tab":
			opts.Comma = '\t'
		}
	}
	return Read(f, path, opts)
}

// errTooLarge is what limitReader returns past Options.MaxBytes.
var errTooLarge = errors.New("input larger than MaxBytes")

// limitReader reads at most max bytes of r (no limit when max <= 0) and
// returns errTooLarge when r holds more.
type limitReader struct {
	r      io.Reader
	n, max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.max <= 0 {
		return l.r.Read(p)
	}
	if l.n >= l.max {
		var b [1]byte
		k, err := l.r.Read(b[:])
		if k > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	k, err := l.r.Read(p)
	l.n += int64(k)
	return k, err
}

// Read reads all of r as CSV (or TSV) with opts; name is the file name
// errors use.
func Read(r io.Reader, name string, opts Options) (*Table, error) {
	comma := opts.Comma
	if comma == 0 {
		comma = ','
	}
	if comma != ',' && comma != '\t' {
		return nil, errorf(name, 0, "separator %q is not ',' or tab", comma)
	}
	if opts.Comment == comma || opts.Comment == '"' || opts.Comment == '\r' || opts.Comment == '\n' {
		return nil, errorf(name, 0, "comment character %q is not allowed", opts.Comment)
	}
	if opts.SkipLines < 0 {
		return nil, errorf(name, 0, "SkipLines is negative (%d)", opts.SkipLines)
	}
	lr := &limitReader{r: r, max: opts.MaxBytes}
	tooLarge := func() error {
		return errorf(name, 0, "larger than MaxBytes (%d bytes)", opts.MaxBytes)
	}
	br := bufio.NewReader(lr)
	t := &Table{File: name}
	skipped := 0
	for ; skipped < opts.SkipLines; skipped++ {
		line, err := br.ReadString('\n')
		if errors.Is(err, errTooLarge) {
			return nil, tooLarge()
		}
		if err != nil && err != io.EOF {
			return nil, errorf(name, skipped+1, "%v", err)
		}
		if line == "" && err == io.EOF {
			break
		}
		t.Preamble = append(t.Preamble, strings.TrimRight(line, "\r\n"))
		if err == io.EOF {
			skipped++
			break
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.Comment = opts.Comment
	cr.FieldsPerRecord = -1 // checked here, to say which line set the count
	header := opts.Header
	headerLine := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, tooLarge()
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errorf(name, pe.Line+skipped, "%v", pe.Err)
			}
			return nil, errorf(name, 0, "%v", err)
		}
		line, _ := cr.FieldPos(0)
		line += skipped
		if header {
			header = false
			headerLine = line
			if err := t.setNames(rec, line); err != nil {
				return nil, err
			}
			continue
		}
		if t.names == nil {
			t.setDefaultNames(len(rec))
		}
		if len(rec) != len(t.names) {
			first, what := headerLine, "the header"
			if first == 0 {
				first, what = t.lines[0], "the first record"
			}
			return nil, errorf(name, line, "%d fields, want %d as in %s on line %d", len(rec), len(t.names), what, first)
		}
		if opts.MaxRecords > 0 && len(t.lines) >= opts.MaxRecords {
			return nil, errorf(name, line, "more than MaxRecords (%d) records", opts.MaxRecords)
		}
		n := len(t.lines)
		t.lines = append(t.lines, line)
		if last, _ := cr.FieldPos(len(rec) - 1); last+skipped != line {
			fl := make([]int, len(rec))
			for j := range rec {
				l, _ := cr.FieldPos(j)
				fl[j] = l + skipped
			}
			if t.multi == nil {
				t.multi = make(map[int][]int)
			}
			t.multi[n] = fl
		}
		for j, f := range rec {
			t.cols[j] = append(t.cols[j], f)
		}
	}
	switch {
	case len(t.lines) > 0:
		return t, nil
	case headerLine > 0:
		return nil, errorf(name, headerLine, "header but no data records")
	case skipped > 0:
		return nil, errorf(name, 0, "no data records after %d skipped lines", skipped)
	default:
		return nil, errorf(name, 0, "empty file")
	}
}

// setNames sets the column names from the header record on line.
func (t *Table) setNames(rec []string, line int) error {
	seen := make(map[string]int, len(rec))
	names := make([]string, len(rec))
	for j, s := range rec {
		if s = strings.TrimSpace(s); s == "" {
			s = fmt.Sprintf("c%d", j)
		}
		if k, dup := seen[s]; dup {
			return errorf(t.File, line, "duplicate column name %q (columns %d and %d)", s, k, j)
		}
		seen[s] = j
		names[j] = s
	}
	t.names = names
	t.cols = make([][]string, len(names))
	return nil
}

// setDefaultNames names n columns c0, c1, ....
func (t *Table) setDefaultNames(n int) {
	t.names = make([]string, n)
	for j := range t.names {
		t.names[j] = fmt.Sprintf("c%d", j)
	}
	t.cols = make([][]string, n)
}
