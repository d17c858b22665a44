package lang_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

const mnist = `// The seed's softmax regression on MNIST.
model MnistSoftmax {
    input x:  f32[N, 784]          // placeholder; N is a symbolic dimension
    input y_: f32[N, 10]

    param W: f32[784, 10] = zeros  // variable, with an initializer
    param b: f32[10]      = zeros
    param h: f32[10, 10] = normal(stddev = 0.1, seed = 42)

    y    = softmax(x @ W + b)
    xent = -sum(y_ * log(y))
    m    = mean(x, axes = [0, 1])
    s    = sum(x, axis = 1, keep_dims = true)

    output y
    train xent with sgd(lr = 0.01)
}
`

// sexpr renders an expression as an S-expression that shows its structure.
func sexpr(e lang.Expr) string {
	switch e := e.(type) {
	case *lang.Ident:
		return e.Name
	case *lang.NumberLit:
		return e.Text
	case *lang.StringLit:
		return strconv.Quote(e.Value)
	case *lang.ListLit:
		var elems []string
		for _, x := range e.Elems {
			elems = append(elems, sexpr(x))
		}
		return "[" + strings.Join(elems, " ") + "]"
	case *lang.UnaryExpr:
		return "(" + e.Op + " " + sexpr(e.X) + ")"
	case *lang.BinaryExpr:
		return "(" + e.Op + " " + sexpr(e.X) + " " + sexpr(e.Y) + ")"
	case *lang.CallExpr:
		s := "(call " + e.Func.Name
		for _, a := range e.Args {
			s += " " + sexpr(a)
		}
		for _, kw := range e.Kwargs {
			s += " " + kw.Name.Name + "=" + sexpr(kw.Value)
		}
		return s + ")"
	case *lang.ParenExpr:
		return "(paren " + sexpr(e.X) + ")"
	}
	return fmt.Sprintf("<%T>", e)
}

func typeString(t *lang.TypeExpr) string {
	if t.Dims == nil {
		return t.DType.Name
	}
	var dims []string
	for _, d := range t.Dims {
		if d.Name != "" {
			dims = append(dims, d.Name)
		} else {
			dims = append(dims, strconv.FormatInt(d.Size, 10))
		}
	}
	return t.DType.Name + "[" + strings.Join(dims, ", ") + "]"
}

// declString renders a statement in a canonical one-line form.
func declString(d lang.Decl) string {
	switch d := d.(type) {
	case *lang.InputDecl:
		return "input " + d.Name.Name + ": " + typeString(d.Type)
	case *lang.ParamDecl:
		s := "param " + d.Name.Name + ": " + typeString(d.Type)
		if d.Init != nil {
			s += " = " + sexpr(d.Init)
		}
		return s
	case *lang.AssignStmt:
		return d.Name.Name + " = " + sexpr(d.Value)
	case *lang.OutputStmt:
		var names []string
		for _, n := range d.Names {
			names = append(names, n.Name)
		}
		return "output " + strings.Join(names, ", ")
	case *lang.TrainStmt:
		return "train " + sexpr(d.Loss) + " with " + sexpr(d.Optimizer)
	}
	return fmt.Sprintf("<%T>", d)
}

func parse(t *testing.T, src string) *lang.File {
	t.Helper()
	f, err := lang.ParseFile("m.flow", []byte(src))
	require.NoError(t, err, "source:\n%s", src)
	require.NotNil(t, f)
	return f
}

// decls parses body inside a model and renders its statements.
func decls(t *testing.T, body string) []string {
	t.Helper()
	f := parse(t, "model M {\n"+body+"\n}\n")
	require.Len(t, f.Models, 1)
	var out []string
	for _, d := range f.Models[0].Decls {
		out = append(out, declString(d))
	}
	return out
}

func TestParseMnist(t *testing.T) {
	f := parse(t, mnist)
	require.Equal(t, "m.flow", f.Name)
	require.Len(t, f.Models, 1)
	m := f.Models[0]
	require.Equal(t, "MnistSoftmax", m.Name.Name)
	var got []string
	for _, d := range m.Decls {
		got = append(got, declString(d))
	}
	require.Equal(t, []string{
		"input x: f32[N, 784]",
		"input y_: f32[N, 10]",
		"param W: f32[784, 10] = zeros",
		"param b: f32[10] = zeros",
		"param h: f32[10, 10] = (call normal stddev=0.1 seed=42)",
		"y = (call softmax (+ (@ x W) b))",
		"xent = (- (call sum (* y_ (call log y))))",
		"m = (call mean x axes=[0 1])",
		"s = (call sum x axis=1 keep_dims=true)",
		"output y",
		"train xent with (call sgd lr=0.01)",
	}, got)

	require.Len(t, f.Comments, 3)
	require.Equal(t, "// The seed's softmax regression on MNIST.", f.Comments[0].Text)
	require.Equal(t, lang.Pos{File: "m.flow", Offset: 0, Line: 1, Col: 1}, f.Comments[0].Pos)
	require.Equal(t, "// placeholder; N is a symbolic dimension", f.Comments[1].Text)
	require.Equal(t, 3, f.Comments[1].Pos.Line)
	require.Equal(t, 36, f.Comments[1].Pos.Col)
}

// pos returns the position of the n-th (0-based) occurrence of sub in src.
func pos(t *testing.T, src, sub string, n int) lang.Pos {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(src[off+1:], sub)
		require.GreaterOrEqual(t, j, 0, "%q occurrence %d not found", sub, n)
		off += 1 + j
	}
	line := 1 + strings.Count(src[:off], "\n")
	col := off - strings.LastIndex(src[:off], "\n")
	return lang.Pos{File: "m.flow", Offset: off, Line: line, Col: col}
}

func TestPositions(t *testing.T) {
	f := parse(t, mnist)
	m := f.Models[0]
	require.Equal(t, pos(t, mnist, "model", 0), m.Pos)
	require.Equal(t, pos(t, mnist, "MnistSoftmax", 0), m.Name.Pos)
	require.Equal(t, pos(t, mnist, "}", 0), m.EndPos)
	require.Equal(t, lang.Pos{File: "m.flow", Line: 1, Col: 1}, f.Pos)

	in := m.Decls[0].(*lang.InputDecl)
	require.Equal(t, pos(t, mnist, "input x", 0), in.Pos)
	require.Equal(t, lang.Pos{File: "m.flow", Offset: 74, Line: 3, Col: 11}, in.Name.Pos)
	require.Equal(t, pos(t, mnist, "f32", 0), in.Type.Pos)
	require.Equal(t, pos(t, mnist, "f32", 0), in.Type.DType.Pos)
	require.Equal(t, pos(t, mnist, "N", 1), in.Type.Dims[0].Pos)
	require.Equal(t, pos(t, mnist, "784", 0), in.Type.Dims[1].Pos)
	require.Equal(t, int64(784), in.Type.Dims[1].Size)

	y := m.Decls[5].(*lang.AssignStmt)
	require.Equal(t, pos(t, mnist, "y    =", 0), y.Pos)
	call := y.Value.(*lang.CallExpr)
	require.Equal(t, pos(t, mnist, "softmax(", 0), call.Pos)
	require.Equal(t, call.Pos, call.Func.Pos)
	plus := call.Args[0].(*lang.BinaryExpr)
	require.Equal(t, pos(t, mnist, "x @ W", 0), plus.Pos, "a binary expression starts at its left operand")
	require.Equal(t, pos(t, mnist, "+ b)", 0), plus.OpPos)
	matmul := plus.X.(*lang.BinaryExpr)
	require.Equal(t, pos(t, mnist, "@", 0), matmul.OpPos)

	xent := m.Decls[6].(*lang.AssignStmt)
	neg := xent.Value.(*lang.UnaryExpr)
	require.Equal(t, pos(t, mnist, "-sum", 0), neg.Pos)
	require.Equal(t, "-", neg.Op)

	mean := m.Decls[7].(*lang.AssignStmt).Value.(*lang.CallExpr)
	require.Equal(t, pos(t, mnist, "axes", 0), mean.Kwargs[0].Pos)
	require.Equal(t, pos(t, mnist, "[0, 1]", 0), mean.Kwargs[0].Value.Position())

	out := m.Decls[9].(*lang.OutputStmt)
	require.Equal(t, pos(t, mnist, "output", 0), out.Pos)
	require.Equal(t, pos(t, mnist, "y\n", 0), out.Names[0].Pos)

	train := m.Decls[10].(*lang.TrainStmt)
	require.Equal(t, pos(t, mnist, "train", 0), train.Pos)
	require.Equal(t, pos(t, mnist, "xent with", 0), train.Loss.Position())
	require.Equal(t, pos(t, mnist, "sgd", 0), train.Optimizer.Pos)
	lr := train.Optimizer.Kwargs[0].Value.(*lang.NumberLit)
	require.Equal(t, pos(t, mnist, "0.01", 0), lr.Pos)
}

func TestExpressions(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		// Precedence: + - below * / @, unary - above both.
		{"a + b * c @ d", "(+ a (@ (* b c) d))"},
		{"a * b + c", "(+ (* a b) c)"},
		{"-x @ W", "(@ (- x) W)"},
		{"-x + y", "(+ (- x) y)"},
		{"a * -b", "(* a (- b))"},
		{"--x", "(- (- x))"},
		// Left associativity.
		{"a - b - c", "(- (- a b) c)"},
		{"a / b * c @ d", "(@ (* (/ a b) c) d)"},
		{"a - b + c", "(+ (- a b) c)"},
		// Parentheses are kept.
		{"(a + b) * c", "(* (paren (+ a b)) c)"},
		{"((a))", "(paren (paren a))"},
		// Literals.
		{"123", "123"},
		{"0.01", "0.01"},
		{"1e-3", "1e-3"},
		{"1.5e+2", "1.5e+2"},
		{`"a \"b\"\n"`, `"a \"b\"\n"`},
		{"[]", "[]"},
		{"[1, 2.5, x]", "[1 2.5 x]"},
		{"[1, 2,]", "[1 2]"},
		{"[[1], []]", "[[1] []]"},
		// Calls.
		{"f()", "(call f)"},
		{"f(x)", "(call f x)"},
		{"f(x, y,)", "(call f x y)"},
		{"f(x, k = 1, j = [2])", "(call f x k=1 j=[2])"},
		{"f(k = 1,)", "(call f k=1)"},
		{"f(g(x), -y)", "(call f (call g x) (- y))"},
		{"normal(stddev = 0.1, seed = 42)", "(call normal stddev=0.1 seed=42)"},
	} {
		got := decls(t, "v = "+tc.src)
		require.Equal(t, []string{"v = " + tc.want}, got, "source: %s", tc.src)
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		src   string
		value float64
		isInt bool
	}{
		{"0", 0, true},
		{"784", 784, true},
		{"0.01", 0.01, false},
		{"1e-3", 0.001, false},
		{"1.5e+2", 150, false},
		{"2E3", 2000, false},
	} {
		f := parse(t, "model M { v = "+tc.src+" }")
		n := f.Models[0].Decls[0].(*lang.AssignStmt).Value.(*lang.NumberLit)
		require.Equal(t, tc.src, n.Text)
		require.Equal(t, tc.value, n.Value, tc.src)
		require.Equal(t, tc.isInt, n.IsInt, tc.src)
	}
}

func TestDecls(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string
	}{
		{"input x: f32", []string{"input x: f32"}},
		{"input x: f32[]", []string{"input x: f32[]"}},
		{"input x: bf16[N, 3, H, W]", []string{"input x: bf16[N, 3, H, W]"}},
		{"input x: anything[0]", []string{"input x: anything[0]"}}, // dtypes are the checker's business
		{"param W: f32[2]", []string{"param W: f32[2]"}},
		{"param W: f32[2] = ones", []string{"param W: f32[2] = ones"}},
		{"output a, b, c", []string{"output a, b, c"}},
		{"train mean(l) with adam(lr = 1e-3, beta1 = 0.9)", []string{"train (call mean l) with (call adam lr=1e-3 beta1=0.9)"}},
		{"a = 1; b = 2;", []string{"a = 1", "b = 2"}},
		{";;\n\n a = 1 ;\n", []string{"a = 1"}},
		// A newline may follow a binary operator, ( [ and , and precede ) ].
		{"y = a +\n    b *\n    c", []string{"y = (+ a (* b c))"}},
		{"y = f(\n  a,\n  k = [\n    1,\n    2\n  ]\n)", []string{"y = (call f a k=[1 2])"}},
		{"y = (\n a\n)", []string{"y = (paren a)"}},
		{"output a,\n  b", []string{"output a, b"}},
		{"input x: f32[\n N,\n 784\n]", []string{"input x: f32[N, 784]"}},
		// Comments are allowed anywhere; a block comment spanning lines ends a statement.
		{"a = 1 /* inline */ + 2 // trailing\n// alone\nb = 2", []string{"a = (+ 1 2)", "b = 2"}},
		{"a = f(1, // why\n 2)", []string{"a = (call f 1 2)"}},
		{"a = 1 /* one\n two */ b = 2", []string{"a = 1", "b = 2"}},
		// Keywords are matched by value; names may contain them.
		{"inputs = model_ + with_", []string{"inputs = (+ model_ with_)"}},
	} {
		require.Equal(t, tc.want, decls(t, tc.body), "body:\n%s", tc.body)
	}
}

func TestModels(t *testing.T) {
	f := parse(t, "model A {}\n\nmodel B { output x }\nmodel C {\n}")
	require.Len(t, f.Models, 3)
	require.Equal(t, "A", f.Models[0].Name.Name)
	require.Empty(t, f.Models[0].Decls)
	require.Equal(t, "B", f.Models[1].Name.Name)
	require.Equal(t, []string{"output x"}, []string{declString(f.Models[1].Decls[0])})
	require.Equal(t, lang.Pos{File: "m.flow", Offset: 43, Line: 5, Col: 1}, f.Models[2].EndPos)
}

func TestParamWithoutInit(t *testing.T) {
	f := parse(t, "model M { param W: f32 }")
	p := f.Models[0].Decls[0].(*lang.ParamDecl)
	require.Nil(t, p.Init)
	require.Nil(t, p.Type.Dims, "no brackets: a scalar type with nil Dims")
	f = parse(t, "model M { param W: f32[] }")
	require.NotNil(t, f.Models[0].Decls[0].(*lang.ParamDecl).Type.Dims, "f32[] has empty, non-nil Dims")
}

// errorList parses src, which must fail, and returns its errors.
func errorList(t *testing.T, src string) (*lang.File, lang.ErrorList) {
	t.Helper()
	f, err := lang.ParseFile("m.flow", []byte(src))
	require.Error(t, err)
	var list lang.ErrorList
	require.True(t, errors.As(err, &list), "error is a %T", err)
	require.NotEmpty(t, list)
	return f, list
}

func TestErrorsAreListed(t *testing.T) {
	_, list := errorList(t, "model M {\n  x = $ $\n  y = (1 +)\n  z = )\n}")
	require.Equal(t, strings.Join([]string{
		`m.flow:2:7: invalid character '$'`, // one error per line: the second $ is not reported
		`m.flow:3:11: expected an expression after "+", found ")"`,
		`m.flow:4:7: expected an expression after "=", found ")"`,
	}, "\n"), list.Error())
}

func TestEmptyFiles(t *testing.T) {
	for _, src := range []string{"", "\n\n", "// nothing\n/* at all */", "\ufeff"} {
		f, list := errorList(t, src)
		require.Equal(t, "m.flow:1:1: no model declared", list.Error(), "source %q", src)
		require.NotNil(t, f)
		require.Empty(t, f.Models)
	}
}

func TestPartialFile(t *testing.T) {
	f, list := errorList(t, "model M {\n  input x: f32[N]\n  y = x +\n  output y\n  output\n}\nmodel {\n}\n")
	require.Len(t, list, 3)
	require.Len(t, f.Models, 1, "a model without a name is left out")
	var got []string
	for _, d := range f.Models[0].Decls {
		got = append(got, declString(d))
	}
	require.Equal(t, []string{"input x: f32[N]"}, got, "statements with errors are left out")
	checkPositions(t, "m.flow", []byte("model M {\n  input x: f32[N]\n  y = x +\n  output y\n  output\n}\nmodel {\n}\n"), f)
}

func TestLexicalErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"model M { x = \x00 }", `m.flow:1:15: invalid character '\x00'`},
		{"model M { x = \xff }", `m.flow:1:15: invalid UTF-8 encoding`},
		{"model M { x = é }", `m.flow:1:15: invalid character 'é'`},
		{"model M { x = a/b }", ``}, // '/' alone is division
		{"model M { x = 1.5.2 }", `m.flow:1:15: invalid number "1.5.2": numbers are decimal and may not be followed by letters`},
		{"model M { x = \"a\n\" }", "m.flow:1:15: unterminated string"},
	} {
		_, err := lang.ParseFile("m.flow", []byte(tc.src))
		if tc.want == "" {
			require.NoError(t, err, tc.src)
			continue
		}
		require.Error(t, err, tc.src)
		require.Equal(t, tc.want, strings.Split(err.Error(), "\n")[0], "source %q", tc.src)
	}
}

func TestDeepNesting(t *testing.T) {
	deep := "model M { x = " + strings.Repeat("(", 100000) + "a" + strings.Repeat(")", 100000) + " }"
	_, list := errorList(t, deep)
	require.Equal(t, "m.flow:1:215: brackets nested too deeply (more than 200 levels)", list.Error())

	ok := "model M { x = " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + " }"
	parse(t, ok)

	long := "model M { x = a" + strings.Repeat(" + a", 10000) + " - " + strings.Repeat("-", 10000) + "b }"
	parse(t, long)
}
