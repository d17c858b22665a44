package compiler

import "github.com/flow-lang/flow/compiler/ir"

// TransposeMatmul folds a transpose of a matmul operand into the matmul:
// matmul(transpose(a), b) with a permutation that swaps exactly the last
// two axes becomes matmul(a, b, transpose_a = !transpose_a), and likewise
// for b. The kernels read a transposed operand in place, so the copy the
// transpose made goes away (the transpose itself stays if something else
// uses it).
var TransposeMatmul = Pass{Name: "transpose-matmul", Run: transposeMatmul}

func transposeMatmul(g *ir.Module) error {
	repl := map[*ir.Node]*ir.Node{}
	for _, n := range append([]*ir.Node{}, g.Body.Nodes...) {
		if n.Op != ir.Matmul {
			continue
		}
		ins := append([]*ir.Node{}, n.Inputs...)
		attrs := n.Attrs.Clone()
		changed := false
		for i, flag := range []string{"transpose_a", "transpose_b"} {
			if x := ins[i]; x.Op == ir.Transpose && swapsLastTwo(x.Attrs.Ints("perm")) {
				ins[i] = x.Inputs[0]
				attrs[flag] = !attrs.Bool(flag)
				changed = true
			}
		}
		if !changed {
			continue
		}
		if r := rebuild(g, n, ir.Matmul, ins, attrs); r != nil {
			repl[n] = r
		}
	}
	g.ReplaceAll(repl)
	return nil
}

// swapsLastTwo reports whether perm exchanges the last two axes and keeps
// every other axis in place.
func swapsLastTwo(perm []int) bool {
	r := len(perm)
	if r < 2 || perm[r-2] != r-1 || perm[r-1] != r-2 {
		return false
	}
	for i := 0; i < r-2; i++ {
		if perm[i] != i {
			return false
		}
	}
	return true
}
