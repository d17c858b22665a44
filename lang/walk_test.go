package lang_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

func nodeName(n lang.Node) string {
	s := strings.TrimPrefix(fmt.Sprintf("%T", n), "*lang.")
	switch n := n.(type) {
	case *lang.Ident:
		s += " " + n.Name
	case *lang.NumberLit:
		s += " " + n.Text
	case *lang.BinaryExpr:
		s += " " + n.Op
	}
	return s
}

func TestWalkOrder(t *testing.T) {
	f := parse(t, "model M {\n input x: f32[N]\n param W: f32 = g(1, k = [2])\n y = -(x @ W)\n output y\n train y with sgd(lr = 0.1)\n}")
	got := walkNames(f)
	require.Equal(t, []string{
		"File", "Model", "Ident M",
		"InputDecl", "Ident x", "TypeExpr", "Ident f32", "DimExpr",
		"ParamDecl", "Ident W", "TypeExpr", "Ident f32", "CallExpr", "Ident g", "NumberLit 1", "KeywordArg", "Ident k", "ListLit", "NumberLit 2",
		"AssignStmt", "Ident y", "UnaryExpr", "ParenExpr", "BinaryExpr @", "Ident x", "Ident W",
		"OutputStmt", "Ident y",
		"TrainStmt", "Ident y", "CallExpr", "Ident sgd", "KeywordArg", "Ident lr", "NumberLit 0.1",
	}, got)
}

func TestWalkSkipsChildren(t *testing.T) {
	f := parse(t, "model M { a = f(x) + 1\n b = 2 }")
	var got []string
	lang.Walk(f, func(n lang.Node) bool {
		got = append(got, nodeName(n))
		_, isCall := n.(*lang.CallExpr)
		_, isModelName := n.(*lang.Ident)
		return !isCall && !isModelName
	})
	require.Equal(t, []string{
		"File", "Model", "Ident M",
		"AssignStmt", "Ident a", "BinaryExpr +", "CallExpr", "NumberLit 1",
		"AssignStmt", "Ident b", "NumberLit 2",
	}, got)
}

func TestWalkNil(t *testing.T) {
	calls := 0
	count := func(lang.Node) bool { calls++; return true }
	lang.Walk(nil, count)
	lang.Walk((*lang.Ident)(nil), count)
	lang.Walk(&lang.ParamDecl{Name: &lang.Ident{Name: "p"}}, count) // nil Type and Init
	lang.Walk(&lang.BinaryExpr{X: (*lang.Ident)(nil)}, count)
	require.Equal(t, 3, calls)
}

func TestWalkBlocks(t *testing.T) {
	f := parse(t, "model M {\n a, b = if p { t = 1; t, 2 } else if q { 3, 4 } else { 5, 6 }\n"+
		" r = while (r = 0) r < 3 limit 4 { r = r + 1 }\n"+
		" h = for x in xs along 1 (h = 0) { yield !x }\n}")
	got := walkNames(f)
	require.Equal(t, []string{
		"File", "Model", "Ident M",
		"AssignStmt", "Ident a", "Ident b", "IfExpr", "Ident p",
		"Block", "AssignStmt", "Ident t", "NumberLit 1", "Ident t", "NumberLit 2",
		"IfExpr", "Ident q", "Block", "NumberLit 3", "NumberLit 4", "Block", "NumberLit 5", "NumberLit 6",
		"AssignStmt", "Ident r", "WhileExpr", "Carried", "Ident r", "NumberLit 0", "BinaryExpr <", "Ident r", "NumberLit 3", "NumberLit 4",
		"Block", "AssignStmt", "Ident r", "BinaryExpr +", "Ident r", "NumberLit 1",
		"AssignStmt", "Ident h", "ForExpr", "ForSeq", "Ident x", "Ident xs", "NumberLit 1", "Carried", "Ident h", "NumberLit 0",
		"Block", "YieldStmt", "UnaryExpr", "Ident x",
	}, got)
}

// walkNames lists the nodes Walk visits under n, in order.
func walkNames(n lang.Node) []string {
	var got []string
	lang.Walk(n, func(n lang.Node) bool {
		got = append(got, nodeName(n))
		return true
	})
	return got
}
