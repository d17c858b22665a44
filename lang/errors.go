package lang

import (
	"fmt"
	"sort"
	"strings"
)

// MaxErrors is the number of diagnostics one run reports; a longer list is
// cut there and ends with a "too many errors" line (see ErrorList.Limit).
const MaxErrors = 10

// tooMany is the message of the entry that ends a list cut by Limit.
const tooMany = "too many errors"

// Error is one diagnostic at a position in a .flow file.
type Error struct {
	// Pos is where the caret goes: the start of the offending construct,
	// or the operator of a binary expression.
	Pos Pos
	// End, when valid, is the position just past the offending span
	// (exclusive, like go/ast's End). When it is not set, the renderer
	// finds it from Node, else from the token at Pos.
	End Pos
	// Msg is the message, in the user's terms.
	Msg string
	// Node, when set, is the construct the error is about; the renderer
	// underlines it from Pos to its end. It is never serialized.
	Node Node
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

// AddNode appends an error about node n, at pos (the caret), with a
// formatted message; the renderer underlines n from pos to its end.
func (l *ErrorList) AddNode(pos Pos, n Node, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Node: n, Msg: fmt.Sprintf(format, args...)})
}

// Sort orders the list by file, line and column, keeping the relative
// order of errors reported at the same position. Errors without a
// position (such as "too many errors") come last.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.IsValid() != b.IsValid() {
			return a.IsValid()
		}
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

// Limit sorts and de-duplicates the list and keeps its first n
// diagnostics; when it drops any, it ends the list with one positionless
// "too many errors" entry. A list already cut keeps its marker.
func (l *ErrorList) Limit(n int) {
	l.Dedup()
	list := *l
	cut := false
	if k := len(list); k > 0 && list[k-1].TooMany() {
		list, cut = list[:k-1], true
	}
	if len(list) > n {
		list, cut = list[:max(n, 0)], true
	}
	if cut {
		list = append(list, &Error{Msg: tooMany})
	}
	*l = list
}

// TooMany reports whether e is the entry that ends a list cut by Limit.
func (e *Error) TooMany() bool {
	return !e.Pos.IsValid() && e.Pos.File == "" && e.Msg == tooMany
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
