package lang_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flow-lang/flow/internal/chunkedfile"
	"github.com/flow-lang/flow/lang"
)

// seeds are valid programs for the fuzzer besides the error corpus.
var seeds = []string{
	mnist,
	"model A {}\nmodel B { output x }",
	"model M {\n  y = f(\n    a,\n    k = [1, 2,],\n  )\n  z = -(a - b) / 2.5e-3 @ \"s\"\n}",
	"model M { input x: f32[]; param p: i8[N, 0, M] = c; train p with o() }",
	"model M { a = 1 /* c\n */ b = 2 }",
	"import \"std/layers.flow\"\nconst k = [[1, 2], [3, -4.5]]\n" +
		"fn dense(x: f32[N, I], units: int, act = \"relu\") -> f32[N, units] {\n" +
		"  param W: f32[I, units] = normal(stddev = 0.1)\n  const two = 2\n  return act(x @ W)\n}\n" +
		"model M { input x: f32[N, 2]; h = dense(x, 3, name = \"h1\"); output h }",
	"fn f(x: f32) -> f32 { return x }",
	"model M {\n  y = if a < b || !c { t = 1; t } else if d { 2 } else { 3 }\n" +
		"  r, k = while (r = 1, k = 0) k <= 3 && r != 0 limit 9 { k = k + 1 }\n" +
		"  hs, h = for x in xs, z in zs along -1 reverse (h = 0) { h = x >= z; yield h, x == z }\n}",
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, c := range chunkedfile.Read(f, "testdata/errors.flow") {
		f.Add([]byte(c.Source))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := lang.ParseFile("fuzz.flow", src)
		if err != nil {
			var list lang.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty lang.ErrorList", err, err)
			}
			for _, e := range list {
				if strings.HasPrefix(e.Msg, "internal parser error") {
					t.Fatalf("parser bug: %v", e)
				}
				checkPos(t, "fuzz.flow", src, e.Pos, len(src))
			}
		} else if file == nil || len(file.Models)+len(file.Funcs)+len(file.Consts)+len(file.Imports) == 0 {
			t.Fatalf("no error, but no declaration either")
		}
		if file != nil {
			checkPositions(t, "fuzz.flow", src, file)
		}
	})
}

func TestFuzzSeedsParse(t *testing.T) {
	for _, s := range seeds {
		f := parse(t, s)
		checkPositions(t, "m.flow", []byte(s), f)
	}
}

// checkPos fails unless p is a valid position in src no further than max,
// and its line and column agree with its offset.
func checkPos(t testing.TB, file string, src []byte, p lang.Pos, max int) {
	t.Helper()
	if !p.IsValid() || p.File != file || p.Offset < 0 || p.Offset > max || p.Offset > len(src) {
		t.Fatalf("bad position %+v (source length %d)", p, len(src))
	}
	before := src[:p.Offset]
	line := 1 + strings.Count(string(before), "\n")
	col := p.Offset - strings.LastIndexByte(string(before), '\n')
	if p.Line != line || p.Col != col {
		t.Fatalf("position %+v: offset %d is at %d:%d", p, p.Offset, line, col)
	}
}

// checkPositions checks every position in f against src: each node starts
// inside the source, and names, literals, operators and comments are found
// where their positions say.
func checkPositions(t testing.TB, file string, src []byte, f *lang.File) {
	t.Helper()
	at := func(p lang.Pos, text string) {
		t.Helper()
		checkPos(t, file, src, p, len(src)-1)
		if !strings.HasPrefix(string(src[p.Offset:]), text) {
			t.Fatalf("%v: want %q in the source", p, text)
		}
	}
	for _, c := range f.Comments {
		at(c.Pos, c.Text)
	}
	lang.Walk(f, func(n lang.Node) bool {
		switch n := n.(type) {
		case *lang.File:
			checkPos(t, file, src, n.Pos, len(src))
		case *lang.Model:
			at(n.Pos, "model")
			checkPos(t, file, src, n.EndPos, len(src))
		case *lang.Ident:
			at(n.Pos, n.Name)
		case *lang.NumberLit:
			at(n.Pos, n.Text)
		case *lang.BinaryExpr:
			at(n.Pos, "")
			at(n.OpPos, n.Op)
			if n.Pos != n.X.Position() {
				t.Fatalf("%v: binary expression does not start at its left operand", n.Pos)
			}
		case *lang.UnaryExpr:
			at(n.Pos, n.Op)
		case *lang.ParenExpr:
			at(n.Pos, "(")
		case *lang.ListLit:
			at(n.Pos, "[")
		case *lang.StringLit:
			at(n.Pos, `"`)
		case *lang.InputDecl:
			at(n.Pos, "input")
		case *lang.ParamDecl:
			at(n.Pos, "param")
		case *lang.OutputStmt:
			at(n.Pos, "output")
		case *lang.TrainStmt:
			at(n.Pos, "train")
		case *lang.FuncDecl:
			at(n.Pos, "fn")
			at(n.EndPos, "}")
		case *lang.ImportDecl:
			at(n.Pos, "import")
		case *lang.ConstDecl:
			at(n.Pos, "const")
		case *lang.ReturnStmt:
			at(n.Pos, "return")
		case *lang.IfExpr:
			at(n.Pos, "if")
		case *lang.WhileExpr:
			at(n.Pos, "while")
		case *lang.ForExpr:
			at(n.Pos, "for")
		case *lang.Block:
			at(n.Pos, "{")
			at(n.EndPos, "}")
		case *lang.YieldStmt:
			at(n.Pos, "yield")
		default:
			at(n.Position(), "")
		}
		return true
	})
}
