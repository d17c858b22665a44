package lang_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

// render renders list against one file's source.
func render(t *testing.T, list lang.ErrorList, name, src string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, lang.Render(&b, list, func(file string) []byte {
		if file == name {
			return []byte(src)
		}
		return nil
	}))
	return b.String()
}

func at(line, col int) lang.Pos { return lang.Pos{File: "m.flow", Line: line, Col: col} }

// TestRenderCaret checks the caret line: under the column, ~ under the
// rest of an explicit span, tabs kept so the caret lines up.
func TestRenderCaret(t *testing.T) {
	src := "model M {\n\ty = x @ W\n}"
	list := lang.ErrorList{
		{Pos: at(2, 8), End: at(2, 11), Msg: "bad matmul"},
		{Pos: at(2, 2), Msg: "bad name"},
	}
	want := "m.flow:2:2: bad name\n" +
		"\ty = x @ W\n" +
		"\t^\n" +
		"m.flow:2:8: bad matmul\n" +
		"\ty = x @ W\n" +
		"\t      ^~~\n"
	require.Equal(t, want, render(t, list, "m.flow", src))
}

// TestRenderCaretAtCRLFEnd checks an error just past a line that ends in
// "\r\n" or "\r": the lexer counts the carriage return as a column, so
// the caret goes at the end of the line (found by FuzzCompile on
// "model\r").
func TestRenderCaretAtCRLFEnd(t *testing.T) {
	for _, src := range []string{"model\r", "model\r\n"} {
		list := lang.ErrorList{{Pos: at(1, 7), Msg: "expected a model name"}}
		want := "m.flow:1:7: expected a model name\nmodel\n     ^\n"
		require.Equal(t, want, render(t, list, "m.flow", src), "%q", src)
	}
}

// TestRenderSpanFromTokens checks the spans found without an explicit
// end: the token at the position, or the node the error names.
func TestRenderSpanFromTokens(t *testing.T) {
	src := "model M {\n  input x: f32[N, 4]\n  y = matmul(x, relu(x), transpose_b = true) + weights\n  output y\n}\n"
	f, err := lang.ParseFile("m.flow", []byte(src))
	require.NoError(t, err)
	assign := f.Models[0].Decls[1].(*lang.AssignStmt)
	bin := assign.Value.(*lang.BinaryExpr)
	call := bin.X.(*lang.CallExpr)
	list := lang.ErrorList{
		{Pos: bin.Y.Position(), Msg: "undefined: weights"},
		{Pos: call.Pos, Node: call, Msg: "call"},
		{Pos: bin.OpPos, Node: &lang.BinaryExpr{Pos: bin.OpPos, OpPos: bin.OpPos, Op: "+", X: bin.X, Y: bin.Y}, Msg: "sum"},
		{Pos: f.Models[0].Decls[0].(*lang.InputDecl).Type.Pos, Node: f.Models[0].Decls[0].(*lang.InputDecl).Type, Msg: "type"},
	}
	got := render(t, list, "m.flow", src)
	want := "m.flow:2:12: type\n" +
		"  input x: f32[N, 4]\n" +
		"           ^~~~~~~~~\n" +
		"m.flow:3:7: call\n" +
		"  y = matmul(x, relu(x), transpose_b = true) + weights\n" +
		"      ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n" +
		"m.flow:3:48: undefined: weights\n" +
		"  y = matmul(x, relu(x), transpose_b = true) + weights\n" +
		"                                               ^~~~~~~\n"
	// The binary expression's span starts at its operator (the error's
	// position), not at X: the caret and the rest of the span to Y's end.
	want = strings.Replace(want, "m.flow:3:48:", "m.flow:3:46: sum\n"+
		"  y = matmul(x, relu(x), transpose_b = true) + weights\n"+
		"                                             ^~~~~~~~~\n"+
		"m.flow:3:48:", 1)
	require.Equal(t, want, got)
}

// TestRenderListHandling checks sorting, de-duplication, the limit of
// MaxErrors with "too many errors", and errors without source.
func TestRenderListHandling(t *testing.T) {
	var list lang.ErrorList
	for i := 15; i >= 1; i-- {
		list.Add(at(i, 1), "error on line %d", i)
		list.Add(at(i, 1), "error on line %d", i) // a repeat
	}
	got := render(t, list, "other.flow", "")
	var want strings.Builder
	for i := 1; i <= lang.MaxErrors; i++ {
		fmt.Fprintf(&want, "m.flow:%d:1: error on line %d\n", i, i)
	}
	want.WriteString("too many errors\n")
	require.Equal(t, want.String(), got)
	// The caller's list is left as it was.
	require.Len(t, list, 30)
	require.Equal(t, 15, list[0].Pos.Line)

	diags := lang.Diagnostics(list, nil)
	require.Len(t, diags, lang.MaxErrors, "the marker is not a diagnostic")
}

// TestRenderOddPositions checks that positions the source does not hold
// (a line past the end, a column past the line, an edited file) render
// the message alone, and the end-of-line caret just past the text.
func TestRenderOddPositions(t *testing.T) {
	src := "ab\ncd"
	list := lang.ErrorList{
		{Pos: at(1, 3), Msg: "at end of line"},
		{Pos: at(1, 9), Msg: "past the line"},
		{Pos: at(7, 1), Msg: "past the file"},
		{Pos: at(2, 1), End: at(1, 1), Msg: "end before start"},
		{Pos: at(2, 2), End: at(9, 9), Msg: "end past the file"},
	}
	want := "m.flow:1:3: at end of line\nab\n  ^\n" +
		"m.flow:1:9: past the line\n" +
		"m.flow:2:1: end before start\ncd\n^\n" +
		"m.flow:2:2: end past the file\ncd\n ^\n" +
		"m.flow:7:1: past the file\n"
	require.Equal(t, want, render(t, list, "m.flow", src))
}

// TestRenderLongLineAndUnicode checks the window shown of a long line and
// that the caret counts characters, not bytes.
func TestRenderLongLineAndUnicode(t *testing.T) {
	src := "// é\u00e9 x"
	got := render(t, lang.ErrorList{{Pos: at(1, 9), Msg: "x"}}, "m.flow", src)
	require.Equal(t, "m.flow:1:9: x\n// éé x\n      ^\n", got)

	long := strings.Repeat("a", 300) + "BAD" + strings.Repeat("b", 300)
	got = render(t, lang.ErrorList{{Pos: at(1, 301), End: at(1, 304), Msg: "x"}}, "m.flow", long)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	require.Len(t, lines, 3)
	require.True(t, strings.HasPrefix(lines[1], "...") && strings.HasSuffix(lines[1], "..."), lines[1])
	caret := strings.Index(lines[2], "^")
	require.Equal(t, "BAD", lines[1][caret:caret+3])
	require.Equal(t, "^~~", strings.TrimSpace(lines[2]))

	// Control characters never reach the terminal.
	got = render(t, lang.ErrorList{{Pos: at(1, 3), Msg: "x"}}, "m.flow", "a\x1b[31mb")
	require.NotContains(t, got, "\x1b")
}

// TestJSON checks the machine-readable form: one array, spans from the
// tokens, [] for no errors.
func TestJSON(t *testing.T) {
	src := "model M {\n  y = foo(1)\n}\n"
	_, err := lang.ParseFile("m.flow", []byte(src))
	require.NoError(t, err)
	list := lang.ErrorList{
		{Pos: at(2, 7), Msg: "unknown function foo"},
		{Pos: at(2, 3), Msg: "y is computed but never used"},
	}
	var b bytes.Buffer
	require.NoError(t, lang.WriteJSON(&b, list, func(string) []byte { return []byte(src) }))
	var got []map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	require.Equal(t, []map[string]any{
		{"file": "m.flow", "line": 2.0, "col": 3.0, "end_line": 2.0, "end_col": 4.0, "severity": "error", "message": "y is computed but never used"},
		{"file": "m.flow", "line": 2.0, "col": 7.0, "end_line": 2.0, "end_col": 10.0, "severity": "error", "message": "unknown function foo"},
	}, got)

	b.Reset()
	require.NoError(t, lang.WriteJSON(&b, nil, nil))
	require.Equal(t, "[]\n", b.String())
}

// TestRenderParseErrors renders the parser's own errors: the caret and
// the offending token underlined.
func TestRenderParseErrors(t *testing.T) {
	src := "model M {\n  input x: f32[N, 784\n  y = relu(x)) + 1\n}\n"
	_, err := lang.ParseFile("m.flow", []byte(src))
	var list lang.ErrorList
	require.True(t, errors.As(err, &list))
	got := render(t, list, "m.flow", src)
	for _, e := range list {
		require.Contains(t, got, e.Error()+"\n")
	}
	require.Contains(t, got, "^")
}

// FuzzRender renders errors at arbitrary positions and spans against
// arbitrary source: it must never panic, and every caret line must fit
// under its source line.
func FuzzRender(f *testing.F) {
	f.Add([]byte("model M {\n\ty = x @ W\n}"), 2, 8, 2, 11, uint8(0))
	f.Add([]byte("é\x00\r\n\t\t\"abc"), 1, 2, 0, 0, uint8(1))
	f.Add([]byte("f(((((\n"), 1, 1, 5, 5, uint8(2))
	f.Add([]byte(""), 0, -1, -5, math.MaxInt, uint8(3))
	f.Fuzz(func(t *testing.T, src []byte, line, col, endLine, endCol int, kind uint8) {
		e := &lang.Error{Pos: lang.Pos{File: "f.flow", Line: line, Col: col}, End: lang.Pos{File: "f.flow", Line: endLine, Col: endCol}, Msg: "m"}
		if file, err := lang.ParseFile("f.flow", src); err == nil && file != nil {
			// Name a real node of the file, positioned or not.
			var nodes []lang.Node
			lang.Walk(file, func(n lang.Node) bool { nodes = append(nodes, n); return true })
			if len(nodes) > 0 {
				e.Node = nodes[int(kind)%len(nodes)]
				if kind%2 == 0 {
					e.Pos, e.End = e.Node.Position(), lang.Pos{}
				}
			}
		}
		var b bytes.Buffer
		source := func(string) []byte { return src }
		require.NoError(t, lang.Render(&b, lang.ErrorList{e}, source))
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		require.Contains(t, []int{1, 3}, len(lines), "%q", b.String())
		if len(lines) == 3 {
			require.LessOrEqual(t, utf8.RuneCountInString(lines[2]), utf8.RuneCountInString(lines[1])+1, "%q", b.String())
			require.Equal(t, 1, strings.Count(lines[2], "^"), "%q", b.String())
		}
		d := lang.Diagnostics(lang.ErrorList{e}, source)
		require.Len(t, d, 1)
	})
}

// TestNodeEnd checks the ends NodeEnd finds: brackets matched across
// lines and nested calls, operators' right operands, single tokens.
func TestNodeEnd(t *testing.T) {
	src := "model M {\n  y = f(g(x),\n        [1, (2)]) * -z\n  output y\n}\n"
	f, err := lang.ParseFile("m.flow", []byte(src))
	require.NoError(t, err)
	ends := map[string]string{}
	lang.Walk(f.Models[0], func(n lang.Node) bool {
		if e, ok := n.(lang.Expr); ok {
			end, ok := lang.NodeEnd([]byte(src), n)
			require.True(t, ok, "%T", n)
			p := e.Position()
			ends[fmt.Sprintf("%T@%d:%d", n, p.Line, p.Col)] = fmt.Sprintf("%d:%d", end.Line, end.Col)
		}
		return true
	})
	require.Equal(t, map[string]string{
		"*lang.BinaryExpr@2:7": "3:23", // f(...) * -z
		"*lang.CallExpr@2:7":   "3:18", // f(g(x), [1, (2)])
		"*lang.Ident@2:7":      "2:8",  // f
		"*lang.CallExpr@2:9":   "2:13", // g(x)
		"*lang.Ident@2:9":      "2:10",
		"*lang.Ident@2:11":     "2:12",
		"*lang.ListLit@3:9":    "3:17",
		"*lang.NumberLit@3:10": "3:11",
		"*lang.ParenExpr@3:13": "3:16",
		"*lang.NumberLit@3:14": "3:15",
		"*lang.UnaryExpr@3:21": "3:23",
		"*lang.Ident@3:22":     "3:23",
		"*lang.Ident@1:7":      "1:8", // M
		"*lang.Ident@2:3":      "2:4", // y
		"*lang.Ident@4:10":     "4:11",
	}, ends)
	_, ok := lang.NodeEnd(nil, f.Models[0])
	require.False(t, ok)
}
