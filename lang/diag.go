package lang

import (
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// This file renders diagnostics for people (the source line with a caret
// under the error) and for editors (JSON).

// SourceFunc returns the text of a file named in diagnostics' positions,
// or nil when it is not available; diagnostics of such a file are rendered
// without their source line.
type SourceFunc func(file string) []byte

// Diagnostic is the machine-readable form of an Error, as `flowc check
// --json` prints it. Lines and columns start at 1; columns count bytes.
// EndLine and EndCol give the position just past the offending span
// (exclusive); they equal Line and Col+1 when only the position is known.
type Diagnostic struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	EndLine  int    `json:"end_line"`
	EndCol   int    `json:"end_col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// prepare returns a sorted, de-duplicated copy of l cut at MaxErrors.
func prepare(l ErrorList) ErrorList {
	out := make(ErrorList, 0, len(l))
	for _, e := range l {
		if e != nil {
			out = append(out, e)
		}
	}
	out.Limit(MaxErrors)
	return out
}

// Render writes the diagnostics of l for people: each as
// file:line:col: message, then the source line and a caret line with ^
// under the column and ~ under the rest of the offending span. The list is
// sorted and de-duplicated first, and cut at MaxErrors with a final
// "too many errors". src may be nil, and may return nil or text that does
// not match the positions (a file edited since): lines it lacks are left
// out, never guessed.
func Render(w io.Writer, l ErrorList, src SourceFunc) error {
	var b strings.Builder
	spans := newSpanCache(src)
	for _, e := range prepare(l) {
		b.WriteString(e.Error())
		b.WriteByte('\n')
		if e.Pos.IsValid() {
			end := spans.end(e)
			b.WriteString(snippet(spans.source(e.Pos.File), e.Pos, end))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Diagnostics converts l, sorted, de-duplicated and cut at MaxErrors, to
// its machine-readable form. The "too many errors" marker has no position
// and is left out.
func Diagnostics(l ErrorList, src SourceFunc) []Diagnostic {
	spans := newSpanCache(src)
	out := []Diagnostic{}
	for _, e := range prepare(l) {
		if e.TooMany() {
			continue
		}
		d := Diagnostic{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col, Severity: "error", Message: e.Msg}
		if end := spans.end(e); end.IsValid() {
			d.EndLine, d.EndCol = end.Line, end.Col
		} else if e.Pos.IsValid() {
			d.EndLine, d.EndCol = e.Pos.Line, e.Pos.Col+1
		}
		out = append(out, d)
	}
	return out
}

// WriteJSON writes the diagnostics of l as one JSON array of Diagnostic
// objects followed by a newline ([] when l is empty).
func WriteJSON(w io.Writer, l ErrorList, src SourceFunc) error {
	data, err := json.MarshalIndent(Diagnostics(l, src), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// maxSnippet bounds, in characters, the part of a long source line shown
// around the caret.
const maxSnippet = 100

// snippet renders the source line at p and the caret line under it, or ""
// when the line is not in src. end, when valid and after p, extends the
// caret with ~ to the end of the span (or of the line).
func snippet(src []byte, p, end Pos) string {
	line, cr, ok := sourceLine(src, p.Line)
	if !ok || p.Col < 1 || p.Col > len(line)+cr+1 {
		return ""
	}
	start := min(p.Col-1, len(line)) // byte offset of the caret in line (a CR ending it counts as its end)
	stop := start + 1                // byte offset just past the span
	if end.IsValid() && (end.Line > p.Line || end.Line == p.Line && end.Col > p.Col) {
		if end.Line > p.Line {
			stop = len(line)
		} else {
			stop = min(end.Col-1, len(line))
		}
		stop = max(stop, start+1)
	}
	// Show a window of a long line around the caret, on rune boundaries.
	from, to, cutLeft, cutRight := 0, len(line), false, false
	if utf8.RuneCountInString(line) > maxSnippet {
		from = max(0, start-maxSnippet/2)
		for from > 0 && from < len(line) && !utf8.RuneStart(line[from]) {
			from--
		}
		to = min(len(line), from+maxSnippet)
		for to < len(line) && !utf8.RuneStart(line[to]) {
			to++
		}
		cutLeft, cutRight = from > 0, to < len(line)
		stop = min(stop, max(to, start+1))
	}
	var text, marks strings.Builder
	if cutLeft {
		text.WriteString("...")
		marks.WriteString("   ")
	}
	for i := from; i < to; {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == '\t':
			text.WriteByte('\t')
		case r < ' ' || r == 0x7f || r == utf8.RuneError && size <= 1 || 0x80 <= r && r < 0xa0:
			// Control characters and broken UTF-8 would garble the
			// terminal; they show as one replacement character.
			text.WriteRune('\uFFFD')
		default:
			text.WriteRune(r)
		}
		switch {
		case i <= start && start < i+size: // the caret may point into a character
			marks.WriteByte('^')
		case i < start && r == '\t':
			marks.WriteByte('\t')
		case i < start:
			marks.WriteByte(' ')
		case i < stop:
			marks.WriteByte('~')
		}
		i += size
	}
	if start >= to { // the caret is just past the end of the line
		marks.WriteByte('^')
	}
	if cutRight {
		text.WriteString("...")
	}
	return text.String() + "\n" + strings.TrimRight(marks.String(), " ") + "\n"
}

// sourceLine returns line n (1-based) of src without its line terminator,
// and cr = 1 when a carriage return ended it (0 otherwise).
func sourceLine(src []byte, n int) (line string, cr int, ok bool) {
	if src == nil || n < 1 {
		return "", 0, false
	}
	for i := 1; i < n; i++ {
		nl := indexByte(src, '\n')
		if nl < 0 {
			return "", 0, false
		}
		src = src[nl+1:]
	}
	if nl := indexByte(src, '\n'); nl >= 0 {
		src = src[:nl]
	}
	line = string(src)
	if trimmed, found := strings.CutSuffix(line, "\r"); found {
		return trimmed, 1, true
	}
	return line, 0, true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// spanCache finds the ends of errors' spans from the tokens of their
// files, scanning each file once.
type spanCache struct {
	src    SourceFunc
	texts  map[string][]byte
	tokens map[string][]lexer.Token
}

func newSpanCache(src SourceFunc) *spanCache {
	return &spanCache{src: src, texts: map[string][]byte{}, tokens: map[string][]lexer.Token{}}
}

func (s *spanCache) source(file string) []byte {
	if text, ok := s.texts[file]; ok {
		return text
	}
	var text []byte
	if s.src != nil {
		text = s.src(file)
	}
	s.texts[file] = text
	return text
}

// toks returns the significant tokens of file (no newlines, no EOF).
func (s *spanCache) toks(file string) []lexer.Token {
	if t, ok := s.tokens[file]; ok {
		return t
	}
	var out []lexer.Token
	if text := s.source(file); text != nil {
		for _, t := range scan(file, text).tokens {
			if t.Type != lexer.EOF && t.Type != tokNewline {
				out = append(out, t)
			}
		}
	}
	s.tokens[file] = out
	return out
}

// end returns the end of e's span: e.End when set, else the end of e.Node,
// else the end of the token at e.Pos; the zero Pos when unknown.
func (s *spanCache) end(e *Error) Pos {
	if e.End.IsValid() {
		return e.End
	}
	if !e.Pos.IsValid() {
		return Pos{}
	}
	toks := s.toks(e.Pos.File)
	if e.Node != nil && !isNil(e.Node) {
		if end, ok := nodeEnd(toks, e.Node); ok && lessEq(e.Pos, end) {
			return end
		}
	}
	if i := tokenAt(toks, e.Pos); i >= 0 {
		return tokenEnd(toks[i])
	}
	return Pos{}
}

func lessEq(a, b Pos) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Col <= b.Col
}

// tokenAt returns the index of the token that starts at p, or -1.
func tokenAt(toks []lexer.Token, p Pos) int {
	i := sort.Search(len(toks), func(i int) bool {
		t := toks[i].Pos
		return t.Line > p.Line || t.Line == p.Line && t.Column >= p.Col
	})
	if i < len(toks) && toks[i].Pos.Line == p.Line && toks[i].Pos.Column == p.Col {
		return i
	}
	return -1
}

// tokenEnd is the position just past t. Tokens do not span lines.
func tokenEnd(t lexer.Token) Pos {
	n := max(len(t.Value), 1)
	return Pos{File: t.Pos.Filename, Offset: t.Pos.Offset + n, Line: t.Pos.Line, Col: t.Pos.Column + n}
}

// closing returns the index of the bracket that closes the one at i, or
// -1 when toks[i] is not an opening bracket or is never closed.
func closing(toks []lexer.Token, i int) int {
	if i < 0 || i >= len(toks) || toks[i].Type != tokPunct || (toks[i].Value != "(" && toks[i].Value != "[") {
		return -1
	}
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].Type != tokPunct {
			continue
		}
		switch toks[j].Value {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// NodeEnd returns the position just past the last character of n in src,
// the text n was parsed from; ok is false when src does not hold n (it
// was edited since, say).
func NodeEnd(src []byte, n Node) (end Pos, ok bool) {
	if isNil(n) || src == nil {
		return Pos{}, false
	}
	var toks []lexer.Token
	for _, t := range scan(n.Position().File, src).tokens {
		if t.Type != lexer.EOF && t.Type != tokNewline {
			toks = append(toks, t)
		}
	}
	return nodeEnd(toks, n)
}

// nodeEnd finds the end of n among the significant tokens of its file.
func nodeEnd(toks []lexer.Token, n Node) (Pos, bool) {
	i := tokenAt(toks, n.Position())
	if i < 0 {
		return Pos{}, false
	}
	bracket := func(j int) (Pos, bool) {
		if k := closing(toks, j); k >= 0 {
			return tokenEnd(toks[k]), true
		}
		return Pos{}, false
	}
	switch n := n.(type) {
	case *CallExpr:
		return bracket(i + 1)
	case *ListLit, *ParenExpr:
		return bracket(i)
	case *BinaryExpr:
		if n.Y != nil && !isNil(n.Y) {
			return nodeEnd(toks, n.Y)
		}
	case *UnaryExpr:
		if n.X != nil && !isNil(n.X) {
			return nodeEnd(toks, n.X)
		}
	case *KeywordArg:
		if n.Value != nil && !isNil(n.Value) {
			return nodeEnd(toks, n.Value)
		}
	case *TypeExpr:
		if i+1 < len(toks) && toks[i+1].Value == "[" {
			return bracket(i + 1)
		}
	}
	return tokenEnd(toks[i]), true
}

// String renders d as file:line:col: message.
func (d Diagnostic) String() string {
	return d.File + ":" + strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Col) + ": " + d.Message
}
