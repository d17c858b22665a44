package gen_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
)

// TestSignatureGraph checks every generated model's Signature().Graph
// against the compiled graph: one node per node the model runs, unique
// names, inputs named before they are read, registry ops, and the
// inputs, params and roles of the IR.
func TestSignatureGraph(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.path, func(t *testing.T) {
			g, err := compiler.CompileFile(ex.path, compiler.Options{Verify: true})
			require.NoError(t, err)
			nodes := ex.new().Signature().Graph
			require.Len(t, nodes, len(g.Schedule(g.Roots()...)))
			seen := map[string]bool{}
			ops := map[string]int{}
			roles := map[string]int{}
			for _, n := range nodes {
				require.False(t, seen[n.Name], "duplicate name %q", n.Name)
				for _, in := range n.Inputs {
					require.True(t, seen[in], "%s reads %q before it is defined", n.Name, in)
				}
				seen[n.Name] = true
				_, ok := ir.Lookup(n.Op)
				require.True(t, ok, "op %q of %s is not registered", n.Op, n.Name)
				ops[n.Op]++
				roles[n.Role]++
			}
			require.Equal(t, len(g.Inputs), ops["input"])
			require.Equal(t, len(g.Params), ops["param"])
			if g.Loss() != nil && len(g.Updates()) > 0 {
				require.Positive(t, roles["update"], "a training graph has update nodes")
			}
		})
	}
}
