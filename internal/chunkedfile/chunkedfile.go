// Package chunkedfile reads the "chunked" test files that hold error
// corpora: many small inputs in one file, each annotated with the errors it
// must produce. It is modeled on go.starlark.net/internal/chunkedfile.
//
// Chunks are separated by lines that consist of exactly "---". A line that
// must carry an error ends with "###" followed by one or more expectations,
// each a Go-quoted regular expression that the error message must match,
// optionally preceded by ":COL" to require the error's 1-based column:
//
//	model M {
//	    input x: f32[+, 784]  ### :18 "expected a dimension"
//	}
//	---
//	model M { x = }  ### `expected an expression after "="`
//
// The "###" annotations are replaced by spaces in Chunk.Source, so columns
// are unchanged. A client feeds each chunk's Source to the code under test,
// reports every error it got with GotError or GotErrorAt (lines counted
// within the chunk), and calls Done; missing and unexpected errors are
// reported as test failures naming the line of the chunked file.
//
// This package is for tests only.
package chunkedfile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Separator is the line that separates two chunks.
const Separator = "---"

// Expect is one expected error.
type Expect struct {
	Col     int            // 1-based column the error must be reported at; 0 for any
	Pattern *regexp.Regexp // the error message must match it
}

// Chunk is one input of a chunked file with the errors it must produce.
type Chunk struct {
	// Source is the chunk's text with the ### annotations blanked out. It
	// does not end with a newline, so an error reported at end of file is
	// on the chunk's last line.
	Source string
	// Line is the line of the chunked file on which the chunk starts (1-based).
	Line int
	// Want maps a line within the chunk (1-based) to the errors expected
	// on it, in the order they are written.
	Want map[int][]Expect

	file    string
	t       testing.TB
	matched map[int][]bool // parallel to Want: which expectations were met
}

// Read reads the chunked file filename and returns its chunks. Failures to
// read the file are fatal; malformed annotations are reported with t.Errorf.
func Read(t testing.TB, filename string) []Chunk {
	t.Helper()
	data, err := os.ReadFile(filename)
	if err != nil {
		t.Fatalf("chunkedfile: %v", err)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Split(text, "\n")

	var chunks []Chunk
	start := 0
	flush := func(end int) {
		c := Chunk{Line: start + 1, Want: map[int][]Expect{}, file: filename, t: t, matched: map[int][]bool{}}
		src := make([]string, 0, end-start)
		for i, line := range lines[start:end] {
			if at := strings.Index(line, "###"); at >= 0 {
				exps, err := parseExpects(line[at+len("###"):])
				if err != nil {
					t.Errorf("%s:%d: %v", filename, start+i+1, err)
				} else {
					c.Want[i+1] = exps
					c.matched[i+1] = make([]bool, len(exps))
				}
				line = line[:at] + strings.Repeat(" ", len(line)-at)
			}
			src = append(src, line)
		}
		c.Source = strings.Join(src, "\n")
		chunks = append(chunks, c)
	}
	for i, line := range lines {
		if line == Separator {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	return chunks
}

// parseExpects parses the text after ###: one or more [:COL] "regexp".
func parseExpects(s string) ([]Expect, error) {
	var exps []Expect
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		var e Expect
		if s[0] == ':' {
			n := 1
			for n < len(s) && '0' <= s[n] && s[n] <= '9' {
				n++
			}
			col, err := strconv.Atoi(s[1:n])
			if err != nil || col < 1 {
				return nil, fmt.Errorf("bad column in annotation %q", s)
			}
			e.Col = col
			s = strings.TrimLeft(s[n:], " \t")
		}
		quoted, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("annotation is not a quoted regexp: %s", s)
		}
		pattern, _ := strconv.Unquote(quoted)
		if e.Pattern, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("bad regexp in annotation: %v", err)
		}
		exps = append(exps, e)
		s = s[len(quoted):]
	}
	if len(exps) == 0 {
		return nil, fmt.Errorf(`"###" is not followed by an expected error`)
	}
	return exps, nil
}

// Name identifies the chunk as file:line, for subtest names and messages.
func (c *Chunk) Name() string {
	return fmt.Sprintf("%s:%d", filepath.Base(c.file), c.Line)
}

// FileLine converts a line within the chunk to a line of the chunked file.
func (c *Chunk) FileLine(line int) int { return c.Line + line - 1 }

// GotError records an error reported at a line within the chunk, without
// checking its column.
func (c *Chunk) GotError(line int, msg string) {
	c.t.Helper()
	c.GotErrorAt(line, 0, msg)
}

// GotErrorAt records an error reported at line and col within the chunk
// (col 0: unknown, not checked). It fails the test if no expectation on
// that line matches it.
func (c *Chunk) GotErrorAt(line, col int, msg string) {
	c.t.Helper()
	exps := c.Want[line]
	for i, e := range exps {
		if c.matched[line][i] || !e.Pattern.MatchString(msg) || col > 0 && e.Col > 0 && e.Col != col {
			continue
		}
		c.matched[line][i] = true
		return
	}
	where := fmt.Sprintf("%s:%d", c.file, c.FileLine(line))
	if col > 0 {
		where += fmt.Sprintf(":%d", col)
	}
	if len(exps) == 0 {
		c.t.Errorf("%s: unexpected error: %s", where, msg)
		return
	}
	var want []string
	for _, e := range exps {
		if e.Col > 0 {
			want = append(want, fmt.Sprintf("%q at column %d", e.Pattern, e.Col))
		} else {
			want = append(want, strconv.Quote(e.Pattern.String()))
		}
	}
	c.t.Errorf("%s: error %q does not match %s", where, msg, strings.Join(want, " or "))
}

// Done fails the test for every expected error that was not reported.
func (c *Chunk) Done() {
	c.t.Helper()
	for line := 1; line <= strings.Count(c.Source, "\n")+1; line++ {
		for i, e := range c.Want[line] {
			if !c.matched[line][i] {
				c.t.Errorf("%s:%d: expected an error matching %q, got none", c.file, c.FileLine(line), e.Pattern)
			}
		}
	}
}
