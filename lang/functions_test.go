package lang_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

// TestParseFunctions checks the AST of file-level imports, constants and
// functions.
func TestParseFunctions(t *testing.T) {
	f := parse(t, `import "std/layers.flow"
const eps = 1e-5
fn dense(
    x: f32[N, I],
    units: int,
    act = "relu",
) -> f32[N, units] {
    param W: f32[I, units] = normal(stddev = 0.1)
    const k = [[1, 2], [3, 4]]
    h = x @ W
    return act(h)
}
fn id(x: f32) { return x }
model M { input x: f32[N, 3]; const c = true; y = dense(x, 2); output y }
`)
	require.Len(t, f.Imports, 1)
	require.Equal(t, "std/layers.flow", f.Imports[0].Path.Value)
	require.Len(t, f.Consts, 1)
	require.Equal(t, "eps", f.Consts[0].Name.Name)
	require.Equal(t, "1e-5", sexpr(f.Consts[0].Value))
	require.Len(t, f.Funcs, 2)

	d := f.Funcs[0]
	require.Equal(t, "dense", d.Name.Name)
	require.Len(t, d.Params, 3)
	require.Equal(t, "x", d.Params[0].Name.Name)
	require.Equal(t, "f32[N, I]", typeString(d.Params[0].Type))
	require.Nil(t, d.Params[0].Default)
	require.Equal(t, "int", typeString(d.Params[1].Type))
	require.Nil(t, d.Params[2].Type)
	require.Equal(t, `"relu"`, sexpr(d.Params[2].Default))
	require.Equal(t, "f32[N, units]", typeString(d.Result))
	require.Len(t, d.Body, 4)
	require.Equal(t, "param W: f32[I, units] = (call normal stddev=0.1)", declString(d.Body[0]))
	c, ok := d.Body[1].(*lang.ConstDecl)
	require.True(t, ok)
	require.Equal(t, "k", c.Name.Name)
	ret, ok := d.Body[3].(*lang.ReturnStmt)
	require.True(t, ok)
	require.Equal(t, "(call act h)", sexpr(ret.Value))
	require.Equal(t, 12, d.EndPos.Line)

	require.Nil(t, f.Funcs[1].Result)
	require.Len(t, f.Funcs[1].Body, 1)
	require.Len(t, f.Models, 1)
	_, ok = f.Models[0].Decls[1].(*lang.ConstDecl)
	require.True(t, ok)
}

// TestWalkFileOrder checks that Walk visits file-level declarations in
// source order, whatever their kind.
func TestWalkFileOrder(t *testing.T) {
	f := parse(t, "fn f(x: f32) -> f32 { return x }\nconst a = 1\nmodel M { output y }\nimport \"x.flow\"\n")
	var got []string
	lang.Walk(f, func(n lang.Node) bool {
		switch n.(type) {
		case *lang.FuncDecl, *lang.ConstDecl, *lang.Model, *lang.ImportDecl, *lang.FuncParam, *lang.ReturnStmt:
			got = append(got, nodeName(n))
		}
		return true
	})
	require.Equal(t, []string{"FuncDecl", "FuncParam", "ReturnStmt", "ConstDecl", "Model", "ImportDecl"}, got)
}

// TestArrowToken checks that "->" is one token and "- >" is not an arrow.
func TestArrowToken(t *testing.T) {
	parse(t, "fn f(x: f32)->f32{return x}")
	_, err := lang.ParseFile("m.flow", []byte("fn f(x: f32) - > f32 { return x }"))
	require.Error(t, err)
}
