package compiler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// testCall builds the call f(args...) of names, where an argument
// written "k=v" is the keyword argument k = v. Argument i starts at
// column 10*(i+1) (a keyword's name, and its value 5 columns later), so
// that positions tell the arguments apart.
func testCall(args ...string) *lang.CallExpr {
	call := &lang.CallExpr{Pos: lang.Pos{Line: 1, Col: 1}, Func: &lang.Ident{Pos: lang.Pos{Line: 1, Col: 1}, Name: "f"}}
	for i, a := range args {
		at := lang.Pos{Line: 1, Col: 10 * (i + 1)}
		k, v, isKw := strings.Cut(a, "=")
		if !isKw {
			call.Args = append(call.Args, &lang.Ident{Pos: at, Name: a})
			continue
		}
		value := &lang.Ident{Pos: lang.Pos{Line: 1, Col: at.Col + 5}, Name: v}
		call.Kwargs = append(call.Kwargs, &lang.KeywordArg{Pos: at, Name: &lang.Ident{Pos: at, Name: k}, Value: value})
	}
	return call
}

// boundNames returns the names of the identifiers exprs (nil: "-").
func boundNames(exprs []lang.Expr) []string {
	out := make([]string, len(exprs))
	for i, e := range exprs {
		out[i] = "-"
		if e != nil {
			out[i] = e.(*lang.Ident).Name
		}
	}
	return out
}

// errText renders binding errors as "col: message".
func errText(errs []bindError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%d: %s", e.pos.Col, e.msg))
	}
	return out
}

func TestBindCall(t *testing.T) {
	// f(x, y, k = 1, mode) with name = scope: the shapes of every callee.
	f := callee{name: "f", sig: "f(x, y, k = 1)", slots: []slot{
		{name: "x", required: true},
		{name: "y", required: true},
		{name: "k"},
		{name: "mode", keyword: true},
		{name: "name", keyword: true, hidden: true},
	}}
	cases := []struct {
		args []string
		want []string // bound per slot
		errs []string
	}{
		{[]string{"a", "b"}, []string{"a", "b", "-", "-", "-"}, nil},
		{[]string{"a", "b", "c"}, []string{"a", "b", "c", "-", "-"}, nil},
		{[]string{"a", "k=c", "y=b", "mode=m", "name=s"}, []string{"a", "b", "c", "m", "s"}, nil},
		{[]string{"y=b", "x=a"}, []string{"a", "b", "-", "-", "-"}, nil},
		// A positional argument never binds to a keyword-only slot.
		{[]string{"a", "b", "c", "d", "e"}, []string{"a", "b", "c", "-", "-"},
			[]string{"40: too many arguments to f: it takes at most 3 (f(x, y, k = 1)); give mode by name"}},
		{[]string{"a", "b", "x=c"}, []string{"a", "b", "-", "-", "-"},
			[]string{"30: argument x of f given twice"}},
		// Hidden slots are accepted but neither listed nor suggested.
		{[]string{"a", "b", "nme=c"}, []string{"a", "b", "-", "-", "-"},
			[]string{"30: f has no argument nme; its arguments are x, y, k and mode"}},
		{[]string{"a", "b", "mod=c"}, []string{"a", "b", "-", "-", "-"},
			[]string{"30: f has no argument mod; did you mean mode?"}},
		{[]string{"a", "b", "zzzzzz=c"}, []string{"a", "b", "-", "-", "-"},
			[]string{"30: f has no argument zzzzzz; its arguments are x, y, k and mode"}},
		// Every missing argument, in one message at the call.
		{nil, []string{"-", "-", "-", "-", "-"},
			[]string{"1: f needs arguments x and y (f(x, y, k = 1))"}},
		{[]string{"k=c"}, []string{"-", "-", "c", "-", "-"},
			[]string{"1: f needs arguments x and y (f(x, y, k = 1))"}},
		{[]string{"x=a"}, []string{"a", "-", "-", "-", "-"},
			[]string{"1: f needs argument y (f(x, y, k = 1))"}},
		// An unknown keyword was most likely meant for the missing one.
		{[]string{"a", "why=b"}, []string{"a", "-", "-", "-", "-"},
			[]string{"20: f has no argument why; its arguments are x, y, k and mode"}},
		// Every mistake is reported, in the order of the arguments.
		{[]string{"a", "b", "c", "d", "k=e", "x=g"}, []string{"a", "b", "c", "-", "-"},
			[]string{"40: too many arguments to f: it takes at most 3 (f(x, y, k = 1)); give mode by name", "50: argument k of f given twice", "60: argument x of f given twice"}},
	}
	for _, tc := range cases {
		call := testCall(tc.args...)
		b, errs := bindCall(f, call, call)
		require.Equal(t, tc.want, boundNames(b.args), "%v", tc.args)
		require.Empty(t, b.rest, "%v", tc.args)
		require.Equal(t, tc.errs, errText(errs), "%v", tc.args)
	}
}

func TestBindCallPositions(t *testing.T) {
	f := callee{name: "f", sig: "f(x)", slots: []slot{{name: "x", required: true}}}
	call := testCall("a", "b", "x=c")
	_, errs := bindCall(f, call, call)
	require.Len(t, errs, 2)
	// Too many: at the first argument too many, underlining it.
	require.Equal(t, call.Args[1], errs[0].node)
	require.Equal(t, call.Args[1].Position(), errs[0].pos)
	// Given twice: at the keyword's name.
	require.Equal(t, call.Kwargs[0].Name.Pos, errs[1].pos)
	require.Nil(t, errs[1].node)
}

func TestBindCallVariadic(t *testing.T) {
	// concat(x..., axis = 0): every positional argument is an operand.
	f := opCallee(ir.MustLookup("concat"))
	call := testCall("a", "b", "c", "axis=d")
	b, errs := bindCall(f, call, call)
	require.Empty(t, errs)
	require.Equal(t, []string{"a", "d"}, boundNames(b.args))
	require.Equal(t, []string{"b", "c"}, boundNames(b.rest))

	_, errs = bindCall(f, testCall("axis=d"), call)
	require.Equal(t, []string{"1: concat needs argument x (concat(x..., axis = 0))"}, errText(errs))
	_, errs = bindCall(f, testCall("a", "b", "x=c"), call)
	require.Equal(t, []string{"30: argument x of concat given twice"}, errText(errs))
}

func TestBindCallWithoutParentheses(t *testing.T) {
	// param W: f32[4] = constant: no call, so nothing is given.
	at := &lang.Ident{Pos: lang.Pos{Line: 3, Col: 7}, Name: "constant"}
	b, errs := bindCall(Initializers["constant"].callee(), nil, at)
	require.Equal(t, []string{"-"}, boundNames(b.args))
	require.Equal(t, []string{"7: constant needs argument value (constant(value))"}, errText(errs))
	require.Equal(t, lang.Node(at), errs[0].node)

	b, errs = bindCall(Initializers["zeros"].callee(), nil, at)
	require.Empty(t, b.args)
	require.Empty(t, errs)
}

func TestBindCallAttrCallees(t *testing.T) {
	// An optimizer: its own arguments, then the common ones by keyword.
	f := Optimizers["sgd"].callee()
	call := testCall("a", "clip_norm=b")
	b, errs := bindCall(f, call, call)
	require.Empty(t, errs)
	require.Equal(t, "a", b.args[0].(*lang.Ident).Name)
	require.Equal(t, "b", b.args[f.slotIndex("clip_norm")].(*lang.Ident).Name)
	_, errs = bindCall(f, testCall("a", "b"), call)
	require.Equal(t, []string{"20: too many arguments to sgd: it takes at most 1 (sgd(lr = 0.01)); give weight_decay, clip_norm, schedule, decay_steps, decay_rate and alpha by name"}, errText(errs))
	_, errs = bindCall(f, testCall("learning_rate=a"), call)
	require.Equal(t, []string{"10: sgd has no argument learning_rate; flow calls it lr"}, errText(errs))

	// An initializer with no arguments.
	_, errs = bindCall(Initializers["ones"].callee(), testCall("a"), call)
	require.Equal(t, []string{"10: too many arguments to ones: it takes at most 0 (ones())"}, errText(errs))
}
