package compiler

import (
	"github.com/flow-lang/flow/compiler/ir"
)

// chainSymSize is the size the matmul-chain pass assumes for every
// symbolic dimension (the batch size N) when it compares orders.
const chainSymSize = 64

// MatmulChain reorders chains of matrix products. A chain is a tree of
// matmuls of rank-2 operands whose inner products are each used only by
// the next product, untransposed: A@B@C@... with leaves A, B, C (each
// possibly read transposed). The pass finds the parenthesization with
// the fewest FLOPs by dynamic programming, costing each product with the
// matmul op's Cost under a binding of every symbolic dimension to
// chainSymSize (N = 64), and rebuilds the chain only when that order is
// strictly cheaper than the one written. x[N,784] @ W1[784,10] @
// W2[10,5] becomes x @ (W1 @ W2).
var MatmulChain = Pass{Name: "matmul-chain", Run: matmulChain}

// chainLeaf is a chain factor: a node, read transposed or not.
type chainLeaf struct {
	n     *ir.Node
	trans bool
}

func (l chainLeaf) dims() (ir.Dim, ir.Dim) {
	s := l.n.Type.Shape
	if l.trans {
		return s[1], s[0]
	}
	return s[0], s[1]
}

func matmul2D(n *ir.Node) bool {
	return n.Op.Name == "matmul" && n.Type.Shape.Rank() == 2 &&
		n.Inputs[0].Type.Shape.Rank() == 2 && n.Inputs[1].Type.Shape.Rank() == 2
}

func matmulChain(g *ir.Graph) error {
	uses := useCounts(g)
	binding := ir.Binding{}
	for _, s := range g.Syms {
		binding[s] = chainSymSize
	}
	// inner reports whether operand i of matmul m continues m's chain.
	inner := func(m *ir.Node, i int) bool {
		x := m.Inputs[i]
		flag := []string{"transpose_a", "transpose_b"}[i]
		return matmul2D(x) && !m.Attrs.Bool(flag) && uses[x] == 1 && x.Type.DType == m.Type.DType
	}
	interior := map[*ir.Node]bool{}
	for _, n := range g.Nodes {
		if matmul2D(n) {
			for i := range 2 {
				if inner(n, i) {
					interior[n.Inputs[i]] = true
				}
			}
		}
	}
	repl := map[*ir.Node]*ir.Node{}
	for _, root := range append([]*ir.Node{}, g.Nodes...) {
		if !matmul2D(root) || interior[root] {
			continue
		}
		var leaves []chainLeaf
		var products []*ir.Node
		var walk func(m *ir.Node)
		walk = func(m *ir.Node) {
			products = append(products, m)
			for i, flag := range []string{"transpose_a", "transpose_b"} {
				if inner(m, i) {
					walk(m.Inputs[i])
				} else {
					leaves = append(leaves, chainLeaf{m.Inputs[i], m.Attrs.Bool(flag)})
				}
			}
		}
		walk(root)
		if len(leaves) < 3 {
			continue
		}
		written := 0.0
		for _, m := range products {
			written += m.Op.Cost(m, binding).FLOPs
		}
		best, split := chainOrder(leaves, root.Type.DType, binding)
		if best >= written {
			continue
		}
		g.SetOrigin(root.Pos, root.Role)
		if r := buildChain(g, leaves, split, 0, len(leaves)-1); r != nil && sameType(r, root) {
			r.Name = root.Name
			r.Device = root.Device
			repl[root] = r
		}
	}
	g.ReplaceAll(repl)
	return nil
}

// chainOrder returns the least FLOPs of multiplying the leaves and the
// split table of the order that achieves it: split[i][j] is where the
// product of leaves i..j divides.
func chainOrder(leaves []chainLeaf, dt ir.DType, b ir.Binding) (float64, [][]int) {
	k := len(leaves)
	dims := make([]ir.Dim, k+1)
	for i, l := range leaves {
		r, c := l.dims()
		dims[i] = r
		dims[i+1] = c
	}
	cost := make([][]float64, k)
	split := make([][]int, k)
	for i := range cost {
		cost[i] = make([]float64, k)
		split[i] = make([]int, k)
	}
	for length := 2; length <= k; length++ {
		for i := 0; i+length-1 < k; i++ {
			j := i + length - 1
			cost[i][j] = -1
			for s := i; s < j; s++ {
				c := cost[i][s] + cost[s+1][j] + productFLOPs(dims[i], dims[s+1], dims[j+1], dt, b)
				if cost[i][j] < 0 || c < cost[i][j] {
					cost[i][j], split[i][j] = c, s
				}
			}
		}
	}
	return cost[0][k-1], split
}

// productFLOPs is the matmul op's cost of a [p,q] @ [q,r] product.
func productFLOPs(p, q, r ir.Dim, dt ir.DType, b ir.Binding) float64 {
	def := ir.MustLookup("matmul")
	a := &ir.Node{Type: ir.Type{DType: dt, Shape: ir.Shape{p, q}}}
	c := &ir.Node{Type: ir.Type{DType: dt, Shape: ir.Shape{q, r}}}
	n := &ir.Node{Op: def, Inputs: []*ir.Node{a, c}, Attrs: ir.Attrs{"transpose_a": false, "transpose_b": false}}
	t, err := def.Infer(n)
	if err != nil {
		return 0
	}
	n.Type = t
	return def.Cost(n, b).FLOPs
}

// buildChain builds the product of leaves i..j in the order of split; it
// returns nil if a product does not type-check (it always should).
func buildChain(g *ir.Graph, leaves []chainLeaf, split [][]int, i, j int) *ir.Node {
	if i == j {
		return nil // single leaves are operands, handled by the caller
	}
	operand := func(lo, hi int) (*ir.Node, bool) {
		if lo == hi {
			return leaves[lo].n, leaves[lo].trans
		}
		return buildChain(g, leaves, split, lo, hi), false
	}
	s := split[i][j]
	a, ta := operand(i, s)
	c, tc := operand(s+1, j)
	if a == nil || c == nil {
		return nil
	}
	n, err := g.Apply("matmul", []*ir.Node{a, c}, ir.Attrs{"transpose_a": ta, "transpose_b": tc})
	if err != nil {
		return nil
	}
	return n
}
