package compiler

import (
	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// chainMargin is how much faster (as a fraction of the written order's
// estimate) a new order must be for the pass to rebuild a chain: the
// estimates of tiny products are too coarse to act on small differences.
const chainMargin = 0.1

// chainSymSize is the size the matmul-chain pass assumes for every
// symbolic dimension (the batch size N) when it compares orders.
const chainSymSize = 64

// MatmulChain reorders chains of matrix products. A chain is a tree of
// matmuls of rank-2 operands whose inner products are each used only by
// the next product, untransposed: A@B@C@... with leaves A, B, C (each
// possibly read transposed). The pass finds the parenthesization the cost
// model estimates fastest by dynamic programming, costing each product
// with cost.EstimateNode (its FLOPs at the rate the profile gives the
// GEMM kernel that product would run on, so a skinny product counts for
// more than its FLOPs) under a binding of every symbolic dimension to
// chainSymSize (N = 64), and rebuilds the chain only when that order is
// at least chainMargin (10%) faster than the one written. x[N,784] @ W1[784,10] @
// W2[10,5] becomes x @ (W1 @ W2). MatmulChain uses the built-in profile;
// the pipeline binds Options.Profile (matmulChainPass).
var MatmulChain = matmulChainPass(nil)

// matmulChainPass returns the matmul-chain pass costing products with
// profile p (nil: cost.Default()).
func matmulChainPass(p *cost.Profile) Pass {
	return Pass{Name: "matmul-chain", Run: func(g *ir.Module) error {
		if p == nil {
			p = cost.Default()
		}
		return matmulChain(g, p)
	}}
}

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
	return n.Op == ir.Matmul && n.Type.Shape.Rank() == 2 &&
		n.Inputs[0].Type.Shape.Rank() == 2 && n.Inputs[1].Type.Shape.Rank() == 2
}

func matmulChain(g *ir.Module, p *cost.Profile) error {
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
	for _, n := range g.Body.Nodes {
		if matmul2D(n) {
			for i := range 2 {
				if inner(n, i) {
					interior[n.Inputs[i]] = true
				}
			}
		}
	}
	repl := map[*ir.Node]*ir.Node{}
	for _, root := range append([]*ir.Node{}, g.Body.Nodes...) {
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
			written += cost.EstimateNode(p, m, binding).Micros
		}
		best, split := chainOrder(p, leaves, root.Type.DType, binding)
		if best >= written*(1-chainMargin) {
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

// chainOrder returns the least estimated time of multiplying the leaves
// and the split table of the order that achieves it: split[i][j] is where
// the product of leaves i..j divides.
func chainOrder(p *cost.Profile, leaves []chainLeaf, dt ir.DType, b ir.Binding) (float64, [][]int) {
	k := len(leaves)
	dims := make([]ir.Dim, k+1)
	for i, l := range leaves {
		r, c := l.dims()
		dims[i] = r
		dims[i+1] = c
	}
	best := make([][]float64, k)
	split := make([][]int, k)
	for i := range best {
		best[i] = make([]float64, k)
		split[i] = make([]int, k)
	}
	for length := 2; length <= k; length++ {
		for i := 0; i+length-1 < k; i++ {
			j := i + length - 1
			best[i][j] = -1
			for s := i; s < j; s++ {
				c := best[i][s] + best[s+1][j] + productMicros(p, dims[i], dims[s+1], dims[j+1], dt, b)
				if best[i][j] < 0 || c < best[i][j] {
					best[i][j], split[i][j] = c, s
				}
			}
		}
	}
	return best[0][k-1], split
}

// productMicros is the cost model's estimate of a [p,q] @ [q,r] product.
func productMicros(prof *cost.Profile, p, q, r ir.Dim, dt ir.DType, b ir.Binding) float64 {
	def := ir.Matmul
	a := &ir.Node{Type: ir.Type{DType: dt, Shape: ir.Shape{p, q}}}
	c := &ir.Node{Type: ir.Type{DType: dt, Shape: ir.Shape{q, r}}}
	n := &ir.Node{Op: def, Inputs: []*ir.Node{a, c}, Attrs: ir.Attrs{"transpose_a": false, "transpose_b": false}}
	t, err := def.Infer(n)
	if err != nil {
		return 0
	}
	n.Type = t
	return cost.EstimateNode(prof, n, b).Micros
}

// buildChain builds the product of leaves i..j in the order of split; it
// returns nil if a product does not type-check (it always should).
func buildChain(g *ir.Module, leaves []chainLeaf, split [][]int, i, j int) *ir.Node {
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
	n, err := g.Apply(ir.Matmul, []*ir.Node{a, c}, ir.Attrs{"transpose_a": ta, "transpose_b": tc})
	if err != nil {
		return nil
	}
	return n
}
