package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one diagnostic at a position in a .flow file.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders the diagnostic as file:line:col: message.
func (e *Error) Error() string {
	if !e.Pos.IsValid() && e.Pos.File == "" {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// ErrorList is a list of diagnostics. The parser and the checker collect
// every error they find instead of stopping at the first.
type ErrorList []*Error

// Add appends an error at pos with a formatted message.
func (l *ErrorList) Add(pos Pos, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Sort orders the list by file, line and column, keeping the relative
// order of errors reported at the same position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Dedup sorts the list and removes exact repeats (same position and message).
func (l *ErrorList) Dedup() {
	l.Sort()
	out := (*l)[:0]
	for i, e := range *l {
		if i > 0 {
			p := out[len(out)-1]
			if p.Pos == e.Pos && p.Msg == e.Msg {
				continue
			}
		}
		out = append(out, e)
	}
	*l = out
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Error renders every diagnostic, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}
