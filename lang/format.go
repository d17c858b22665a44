package lang

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// This file holds the formatter, the gofmt of .flow files. The canonical
// style is documented in docs/language.md ("Formatting"):
//
//   - one statement per line, 4-space indentation inside model and function
//     bodies, at most one blank line between statements and none at the
//     start or end of a body;
//   - single spaces around binary operators, "=", "->" and "with", after
//     ":" and ","; none inside brackets or after a unary minus;
//   - in a run of consecutive single-line statements of the same kind
//     (inputs, params, assignments) the types and the "=" signs line up;
//   - trailing comments of a run of lines line up two spaces after the
//     longest commented line;
//   - a line break inside an expression (after "(", "[", ",", an operator,
//     or before ")" or "]") is kept; continuation lines are indented one
//     level per bracket line still open, and a closing bracket on its own
//     line gets a trailing comma where the grammar allows one.
//
// The printer walks the AST (which fixes the structure) and, in step,
// the source's token stream (which gives every token a position), so that
// each comment is printed at the token boundary where it was written.

// Format parses the .flow source src and returns it in canonical form,
// keeping every comment. filename is used in error positions only. A
// source that does not parse gives its ErrorList and no output. Format is
// idempotent, and its output parses to the same AST as src.
func Format(filename string, src []byte) ([]byte, error) {
	f, err := ParseFile(filename, src)
	if err != nil {
		return nil, err
	}
	out, err := formatFile(filename, src, f)
	if err != nil {
		return nil, err
	}
	// A formatter must never change a program: check the output parses to
	// the same AST with the same comments before handing it out.
	g, err := ParseFile(filename, out)
	if err != nil {
		return nil, fmt.Errorf("%s: internal formatter error: the output does not parse: %v", filename, err)
	}
	if !SameAST(f, g) {
		return nil, fmt.Errorf("%s: internal formatter error: the output does not parse to the same program", filename)
	}
	return out, nil
}

// SameAST reports whether a and b are the same program with the same
// comments, ignoring positions, layout and trailing white space in line
// comments. The formatter's output is always SameAST as its input.
func SameAST(a, b *File) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Comments) != len(b.Comments) {
		return false
	}
	for i := range a.Comments {
		if commentText(a.Comments[i]) != commentText(b.Comments[i]) {
			return false
		}
	}
	return sameValue(reflect.ValueOf(a.Models), reflect.ValueOf(b.Models)) &&
		sameValue(reflect.ValueOf(a.Imports), reflect.ValueOf(b.Imports)) &&
		sameValue(reflect.ValueOf(a.Consts), reflect.ValueOf(b.Consts)) &&
		sameValue(reflect.ValueOf(a.Funcs), reflect.ValueOf(b.Funcs))
}

var posType = reflect.TypeOf(Pos{})

// sameValue compares two AST values field by field, skipping positions.
func sameValue(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).Type == posType {
				continue
			}
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || math.IsNaN(x) && math.IsNaN(y)
	default:
		return a.Interface() == b.Interface()
	}
}

// commentText is a comment as the formatter prints it: line comments lose
// trailing white space.
func commentText(c *Comment) string {
	if strings.HasPrefix(c.Text, "//") {
		return strings.TrimRight(c.Text, " \t")
	}
	return c.Text
}

// commentEnd is the line on which c ends.
func commentEnd(c *Comment) int {
	return c.Pos.Line + strings.Count(c.Text, "\n")
}

// indentUnit is one level of indentation.
const indentUnit = "    "

// Alignment groups: consecutive single-line statements of one group line
// up their cells.
const (
	groupNone = iota
	groupInput
	groupParam
	groupAssign
)

// entry is one line (or several) of a body or of the file.
type entry struct {
	blank    bool     // an empty line
	comment  bool     // a line of comments only; lines[0] is the text
	lines    []string // first line without indentation, then continuation lines with theirs
	cells    []int    // offsets in lines[0] of the spaces that separate cells
	group    int
	trailing string // comments after the last token on the last line
}

// multiline reports whether e takes more than one output line.
func (e *entry) multiline() bool {
	return len(e.lines) > 1 || strings.Contains(e.lines[0], "\n") || strings.Contains(e.trailing, "\n")
}

// printer is the state of one formatting pass.
type printer struct {
	toks     []lexer.Token // the source's significant tokens without newlines and semicolons
	ti       int           // the next source token
	comments []*Comment
	ci       int // the next comment to print
	last     int // source line where the last printed token or comment ends
	err      error

	stmtState
}

// stmtState is the state of the statement being printed. A block inside
// an expression saves it while its statements are printed.
type stmtState struct {
	indent    string   // indentation of its first line
	lines     []string // its finished lines
	cur       []byte   // the line being written
	lineStart int      // length of the indentation at the start of cur
	cells     []int
	markCell  bool
	started   bool
	open      []int // for each open bracket, the index of the line that opened it
	needBreak bool  // a line comment was written: the next token starts a line
	needSpace bool  // a block comment was written: the next token needs a space
	sameLine  bool  // the next token stays on the line whatever the source did
}

// clone returns a copy of s that shares no memory with it.
func (s stmtState) clone() stmtState {
	s.lines = append([]string(nil), s.lines...)
	s.cur = append([]byte(nil), s.cur...)
	s.cells = append([]int(nil), s.cells...)
	s.open = append([]int(nil), s.open...)
	return s
}

// formatFile prints f, parsed from src, in canonical form.
func formatFile(filename string, src []byte, f *File) (out []byte, err error) {
	defer func() {
		// A printer bug must become an error, never a crash of the caller.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s: internal formatter error: %v", filename, r)
		}
	}()
	scanned := scan(filename, src)
	p := &printer{comments: f.Comments}
	for _, t := range scanned.tokens {
		if t.Type == tokNewline || t.Type == tokPunct && t.Value == ";" {
			continue
		}
		p.toks = append(p.toks, t)
	}
	lines := p.block("", f.decls(), math.MaxInt)
	if p.err == nil && (p.ti != len(p.toks)-1 || p.ci != len(p.comments)) {
		p.err = fmt.Errorf("%s: internal formatter error: %d tokens and %d comments left over", filename, len(p.toks)-1-p.ti, len(p.comments)-p.ci)
	}
	if p.err != nil {
		return nil, p.err
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// block prints items (statements, or the file's declarations) and the
// comments among them, up to the source offset end, as lines indented by
// indent.
func (p *printer) block(indent string, items []Node, end int) []string {
	var entries []entry
	prevEnd := p.last // the source line the previous entry ends on
	standalone := func(limit int) {
		for p.ci < len(p.comments) && p.comments[p.ci].Pos.Offset < limit {
			c := p.comments[p.ci]
			p.ci++
			if n := len(entries); n > 0 && entries[n-1].comment && c.Pos.Line == prevEnd {
				entries[n-1].lines[0] += " " + commentText(c)
			} else {
				if len(entries) > 0 && c.Pos.Line > prevEnd+1 {
					entries = append(entries, entry{blank: true})
				}
				entries = append(entries, entry{comment: true, lines: []string{commentText(c)}})
			}
			prevEnd = commentEnd(c)
		}
		p.last = prevEnd
	}
	for i, it := range items {
		start := it.Position()
		standalone(start.Offset)
		if len(entries) > 0 && start.Line > prevEnd+1 {
			entries = append(entries, entry{blank: true})
		}
		limit := end
		if i+1 < len(items) {
			limit = items[i+1].Position().Offset
		}
		e := p.item(indent, it)
		e.trailing = p.trailing(limit)
		entries = append(entries, e)
		prevEnd = p.last
	}
	standalone(end)
	return layout(indent, entries)
}

// trailing takes the comments before the source offset limit that are on
// the line where the last token ended.
func (p *printer) trailing(limit int) string {
	var parts []string
	for p.ci < len(p.comments) {
		c := p.comments[p.ci]
		if c.Pos.Offset >= limit || c.Pos.Line != p.last {
			break
		}
		p.ci++
		parts = append(parts, commentText(c))
		p.last = commentEnd(c)
	}
	return strings.Join(parts, " ")
}

// item prints one statement or top-level declaration.
func (p *printer) item(indent string, n Node) entry {
	switch n := n.(type) {
	case *Model:
		p.begin(indent)
		p.put("model", false)
		p.put(n.Name.Name, true)
		p.put("{", true)
		return p.body(indent, p.end(), n.Decls, n.EndPos)
	case *FuncDecl:
		p.begin(indent)
		p.put("fn", false)
		p.put(n.Name.Name, true)
		p.put("(", false)
		p.list(len(n.Params), func(i int) {
			fp := n.Params[i]
			p.put(fp.Name.Name, i > 0)
			if fp.Type != nil {
				p.put(":", false)
				p.typ(fp.Type)
			}
			if fp.Default != nil {
				p.put("=", true)
				p.expr(fp.Default, true)
			}
		}, ")", true)
		if n.Result != nil {
			p.put("->", true)
			p.typ(n.Result)
		}
		p.put("{", true)
		return p.body(indent, p.end(), n.Body, n.EndPos)
	}
	p.begin(indent)
	group := groupNone
	switch n := n.(type) {
	case *ImportDecl:
		p.put("import", false)
		p.str(n.Path, true)
	case *ConstDecl:
		p.put("const", false)
		p.put(n.Name.Name, true)
		p.put("=", true)
		p.expr(n.Value, true)
	case *InputDecl:
		group = groupInput
		p.put("input", false)
		p.put(n.Name.Name, true)
		p.put(":", false)
		p.cell()
		p.typ(n.Type)
	case *ParamDecl:
		group = groupParam
		p.put("param", false)
		p.put(n.Name.Name, true)
		p.put(":", false)
		p.cell()
		p.typ(n.Type)
		if n.Init != nil {
			p.cell()
			p.put("=", true)
			p.expr(n.Init, true)
		}
	case *AssignStmt:
		group = groupAssign
		for i, name := range n.Targets() {
			if i > 0 {
				p.put(",", false)
			}
			p.put(name.Name, i > 0)
		}
		p.cell()
		p.put("=", true)
		p.expr(n.Value, true)
	case *OutputStmt:
		p.put("output", false)
		for i, name := range n.Names {
			if i > 0 {
				p.put(",", false)
			}
			p.put(name.Name, true)
		}
	case *TrainStmt:
		p.put("train", false)
		p.expr(n.Loss, true)
		p.put("with", true)
		p.expr(n.Optimizer, true)
	case *ReturnStmt:
		p.put("return", false)
		p.expr(n.Value, true)
	case *valueLine:
		p.exprs(n.values, false)
	case *YieldStmt:
		p.put("yield", false)
		p.exprs(n.Values, true)
	default:
		p.fail("unexpected %T", n)
	}
	e := p.end()
	e.group = group
	return e
}

// body prints the statements of a model or function after its header and
// the closing brace at endPos.
func (p *printer) body(indent string, header entry, decls []Decl, endPos Pos) entry {
	limit := endPos.Offset
	if len(decls) > 0 {
		limit = decls[0].Position().Offset
	}
	if t := p.trailing(limit); t != "" {
		header.lines[len(header.lines)-1] += "  " + t
	}
	items := make([]Node, len(decls))
	for i, d := range decls {
		items[i] = d
	}
	lines := p.block(indent+indentUnit, items, endPos.Offset)
	p.begin(indent)
	p.put("}", false)
	closing := p.end()
	if n := len(header.lines); len(lines) == 0 && !strings.Contains(header.lines[n-1], "//") && !strings.Contains(header.lines[n-1], "*/") {
		header.lines[n-1] += "}" // model M {}
		return header
	}
	e := entry{lines: append(header.lines, lines...)}
	e.lines = append(e.lines, indent+closing.lines[0])
	return e
}

// layout indents entries and lines up the cells and trailing comments of
// runs of consecutive single-line statements.
func layout(indent string, entries []entry) []string {
	for i := 0; i < len(entries); {
		if entries[i].blank || entries[i].comment || entries[i].multiline() {
			i++
			continue
		}
		j := i
		for j < len(entries) && !entries[j].blank && !entries[j].comment && !entries[j].multiline() {
			j++
		}
		alignSection(entries[i:j])
		i = j
	}
	var out []string
	for _, e := range entries {
		switch {
		case e.blank:
			out = append(out, "")
		case e.comment:
			out = append(out, indent+e.lines[0])
		default:
			lines := append([]string(nil), e.lines...)
			lines[0] = indent + lines[0]
			if e.trailing != "" && e.multiline() {
				lines[len(lines)-1] += "  " + e.trailing
			}
			out = append(out, lines...)
		}
	}
	return out
}

// alignSection aligns a run of single-line statements: the cells of each
// group of consecutive statements of the same kind, then the trailing
// comments of the whole run.
func alignSection(run []entry) {
	for i := 0; i < len(run); {
		j := i + 1
		for j < len(run) && run[j].group == run[i].group {
			j++
		}
		if run[i].group != groupNone {
			alignCells(run[i:j])
		}
		i = j
	}
	width := -1
	for _, e := range run {
		if e.trailing != "" {
			width = max(width, textWidth(e.lines[0]))
		}
	}
	for i := range run {
		if e := &run[i]; e.trailing != "" {
			e.lines[0] += strings.Repeat(" ", width-textWidth(e.lines[0])+2) + e.trailing
		}
	}
}

// alignCells pads the cells of a group so that each column starts at the
// same place.
func alignCells(group []entry) {
	split := make([][]string, len(group))
	var widths []int
	for i, e := range group {
		var cells []string
		prev := 0
		for _, off := range e.cells {
			cells = append(cells, e.lines[0][prev:off])
			prev = off + 1 // skip the separating space
		}
		cells = append(cells, e.lines[0][prev:])
		split[i] = cells
		for k := 0; k < len(cells)-1; k++ {
			if k == len(widths) {
				widths = append(widths, 0)
			}
			widths[k] = max(widths[k], textWidth(cells[k]))
		}
	}
	for i, cells := range split {
		var b strings.Builder
		for k, c := range cells {
			b.WriteString(c)
			if k < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[k]-textWidth(c)+1))
			}
		}
		group[i].lines[0] = b.String()
	}
}

// textWidth is the width of s in columns (one per rune).
func textWidth(s string) int { return utf8.RuneCountInString(s) }

// begin starts printing a statement (or a header or closing brace).
func (p *printer) begin(indent string) {
	p.stmtState = stmtState{indent: indent, cur: p.cur[:0], open: p.open[:0]}
}

// end finishes the statement and returns its lines.
func (p *printer) end() entry {
	lines := append(p.lines, string(p.cur))
	if len(lines) > 1 {
		p.cells = nil
	}
	return entry{lines: lines, cells: p.cells}
}

// cell marks the start of a new aligned cell before the next token.
func (p *printer) cell() { p.markCell = true }

// fail records an internal error; printing goes on but Format fails.
func (p *printer) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("internal formatter error: "+format, args...)
	}
}

// put prints the next token, text, which must be the next source token;
// space says whether a space separates it from the previous token on a
// line.
func (p *printer) put(text string, space bool) {
	if p.ti >= len(p.toks)-1 {
		p.fail("no source token left for %q", text)
		p.write(Pos{}, text, space)
		return
	}
	t := p.toks[p.ti]
	p.ti++
	if t.Value != text {
		p.fail("printing %q at the source token %q (%s)", text, t.Value, toPos(t.Pos))
	}
	p.write(toPos(t.Pos), text, space)
}

// write prints text for a token at source position pos (invalid for a
// token the source does not have), after the comments before it.
func (p *printer) write(pos Pos, text string, space bool) {
	if p.markCell {
		p.markCell = false
		if len(p.lines) == 0 {
			p.cells = append(p.cells, len(p.cur))
		}
	}
	closer := text == ")" || text == "]" || text == "}"
	if pos.IsValid() {
		for p.ci < len(p.comments) && p.comments[p.ci].Pos.Offset < pos.Offset {
			c := p.comments[p.ci]
			p.ci++
			text := commentText(c)
			if p.started && c.Pos.Line > p.last {
				// A comment line before a closer belongs to the
				// bracket's contents: it is indented like them.
				p.newline(false)
			} else if p.hasText() {
				switch {
				case strings.HasPrefix(text, "//"):
					p.cur = append(p.cur, "  "...)
				case !bytes.HasSuffix(p.cur, []byte("(")) && !bytes.HasSuffix(p.cur, []byte("[")):
					p.cur = append(p.cur, ' ')
				}
			}
			p.cur = append(p.cur, text...)
			p.last = commentEnd(c)
			if strings.HasPrefix(text, "//") {
				p.needBreak = true
			} else {
				p.needSpace = true
			}
		}
	}
	breakLine := p.needBreak || p.started && pos.IsValid() && pos.Line > p.last && !p.sameLine
	switch {
	case breakLine:
		p.newline(closer)
	case (space || p.needSpace && !closer && text != ",") && p.hasText():
		p.cur = append(p.cur, ' ')
	}
	p.needBreak, p.needSpace, p.sameLine = false, false, false
	p.cur = append(p.cur, text...)
	p.started = true
	if pos.IsValid() {
		p.last = pos.Line
	}
	switch text {
	case "(", "[":
		p.open = append(p.open, len(p.lines))
	case ")", "]":
		if n := len(p.open); n > 0 {
			p.open = p.open[:n-1]
		}
	}
}

// hasText reports whether the current line holds more than indentation.
func (p *printer) hasText() bool { return len(p.cur) > p.lineStart }

// newline ends the current line and indents the next: one level per line
// that opened brackets still open (after the one a closer closes), and at
// least one level for a continuation that is not a closer.
func (p *printer) newline(closer bool) {
	p.lines = append(p.lines, strings.TrimRight(string(p.cur), " "))
	open := p.open
	if closer && len(open) > 0 {
		open = open[:len(open)-1]
	}
	levels := 0
	for i, l := range open {
		if i == 0 || l != open[i-1] {
			levels++
		}
	}
	if levels == 0 && !closer {
		levels = 1
	}
	p.cur = append(p.cur[:0], p.indent...)
	for range levels {
		p.cur = append(p.cur, indentUnit...)
	}
	p.lineStart = len(p.cur)
	p.needBreak = false
}

// list prints n comma-separated items and the closing bracket. When the
// closer ends up on a line of its own, a trailing comma follows the last
// item if trailingOK; a trailing comma on one line is dropped.
func (p *printer) list(n int, item func(i int), closer string, trailingOK bool) {
	for i := 0; i < n; i++ {
		if i > 0 {
			p.put(",", false)
		}
		item(i)
	}
	hasComma := p.ti < len(p.toks) && p.toks[p.ti].Value == ","
	j := p.ti
	if hasComma {
		j++
	}
	breaks := n > 0 && j < len(p.toks) && p.toks[j].Pos.Line > p.last
	if !breaks && p.ci < len(p.comments) && j < len(p.toks) && p.comments[p.ci].Pos.Offset < p.toks[j].Pos.Offset &&
		strings.HasPrefix(p.comments[p.ci].Text, "//") {
		breaks = n > 0 // a line comment before the closer puts it on a line of its own
	}
	switch {
	case breaks && trailingOK && hasComma:
		p.put(",", false)
	case breaks && trailingOK:
		p.write(Pos{}, ",", false)
	case hasComma:
		p.ti++ // a trailing comma on one line goes away
	}
	if n == 0 {
		p.sameLine = true
	}
	p.put(closer, false)
}

// typ prints a type: f32, f32[] or f32[N, 784].
func (p *printer) typ(t *TypeExpr) {
	p.put(t.DType.Name, true)
	if t.Dims == nil {
		return
	}
	p.put("[", false)
	p.list(len(t.Dims), func(i int) {
		d := t.Dims[i]
		if d.Name != "" {
			p.put(d.Name, i > 0)
			return
		}
		text := strconv.FormatInt(d.Size, 10)
		if p.ti < len(p.toks) && p.toks[p.ti].Type == tokInt {
			text = p.toks[p.ti].Value // as written, e.g. 007
		}
		p.put(text, i > 0)
	}, "]", false)
}

// str prints a string literal as written.
func (p *printer) str(s *StringLit, space bool) {
	text := strconv.Quote(s.Value)
	if p.ti < len(p.toks) && p.toks[p.ti].Type == tokString {
		text = p.toks[p.ti].Value
	}
	p.put(text, space)
}

// expr prints an expression.
func (p *printer) expr(x Expr, space bool) {
	switch x := x.(type) {
	case *Ident:
		p.put(x.Name, space)
	case *NumberLit:
		p.put(x.Text, space)
	case *StringLit:
		p.str(x, space)
	case *ListLit:
		p.put("[", space)
		p.list(len(x.Elems), func(i int) { p.expr(x.Elems[i], i > 0) }, "]", true)
	case *UnaryExpr:
		p.put(x.Op, space)
		p.expr(x.X, false)
	case *BinaryExpr:
		p.expr(x.X, space)
		p.put(x.Op, true)
		p.expr(x.Y, true)
	case *CallExpr:
		p.put(x.Func.Name, space)
		p.put("(", false)
		p.list(len(x.Args)+len(x.Kwargs), func(i int) {
			if i < len(x.Args) {
				p.expr(x.Args[i], i > 0)
				return
			}
			kw := x.Kwargs[i-len(x.Args)]
			p.put(kw.Name.Name, i > 0)
			p.put("=", true)
			p.expr(kw.Value, true)
		}, ")", true)
	case *ParenExpr:
		p.put("(", space)
		p.expr(x.X, false)
		p.put(")", false)
	case *IfExpr:
		p.put("if", space)
		for {
			p.expr(x.Cond, true)
			p.blockBody(x.Then)
			p.put("else", true)
			if x.ElseIf == nil {
				p.blockBody(x.Else)
				break
			}
			p.put("if", true)
			x = x.ElseIf
		}
	case *WhileExpr:
		p.put("while", space)
		p.carried(x.Carried)
		p.expr(x.Cond, true)
		if x.Limit != nil {
			p.put("limit", true)
			p.expr(x.Limit, true)
		}
		p.blockBody(x.Body)
	case *ForExpr:
		p.put("for", space)
		for i, s := range x.Seqs {
			if i > 0 {
				p.put(",", false)
			}
			p.put(s.Name.Name, true)
			p.put("in", true)
			p.expr(s.Seq, true)
		}
		if x.Axis != nil {
			p.put("along", true)
			p.expr(x.Axis, true)
		}
		if x.Reverse {
			p.put("reverse", true)
		}
		if x.Carried != nil {
			p.carried(x.Carried)
		}
		p.blockBody(x.Body)
	default:
		p.fail("unexpected expression %T", x)
	}
}

// exprs prints comma-separated expressions.
func (p *printer) exprs(xs []Expr, space bool) {
	for i, x := range xs {
		if i > 0 {
			p.put(",", false)
		}
		p.expr(x, space || i > 0)
	}
}

// carried prints the carried values of a while or a for, after a space
// (which tells a for's carried values from a call).
func (p *printer) carried(cs []*Carried) {
	p.put("(", true)
	p.list(len(cs), func(i int) {
		p.put(cs[i].Name.Name, i > 0)
		p.put("=", true)
		p.expr(cs[i].Init, true)
	}, ")", true)
}

// valueLine is the value line of an if branch, as an item to print.
type valueLine struct{ values []Expr }

// Position returns where the line starts.
func (v *valueLine) Position() Pos { return v.values[0].Position() }

// blockItems returns the lines of b to print: statements, value line,
// yield.
func blockItems(b *Block) []Node {
	items := make([]Node, 0, len(b.Stmts)+1)
	for _, d := range b.Stmts {
		items = append(items, d)
	}
	if b.Result != nil {
		items = append(items, &valueLine{b.Result})
	}
	if b.Yield != nil {
		items = append(items, b.Yield)
	}
	return items
}

// blockBody prints the block of an if, while or for inside the statement
// being printed: "{" ends the line, the block's statements follow on
// lines of their own one level deeper than that line, and "}" starts a
// line indented like it. When "{" ends a continuation line outside any
// bracket (a header that spans lines), the block is indented from the
// statement's first line instead, as gofmt does for a long if condition.
func (p *printer) blockBody(b *Block) {
	p.put("{", true)
	indent := p.indent
	if len(p.lines) > 0 && len(p.open) > 0 {
		indent = string(p.cur[:p.lineStart])
	}
	items := blockItems(b)
	limit := b.EndPos.Offset
	if len(items) > 0 {
		limit = items[0].Position().Offset
	}
	trailing := p.trailing(limit)
	saved := p.stmtState.clone()
	lines := p.block(indent+indentUnit, items, b.EndPos.Offset)
	p.stmtState = saved
	if len(lines) == 0 && trailing == "" {
		p.sameLine = true
		p.put("}", false) // while (k = 0) k < 3 {}
		return
	}
	if trailing != "" {
		p.cur = append(p.cur, "  "+trailing...)
	}
	p.lines = append(p.lines, strings.TrimRight(string(p.cur), " "))
	p.lines = append(p.lines, lines...)
	p.cur = append(p.cur[:0], indent...)
	p.lineStart = len(indent)
	p.sameLine = true
	p.put("}", false)
}
