package compiler_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/internal/opcheck"
)

// TestPassesPreserveOpModels runs internal/opcheck's model of every op
// (each of the op's examples applied to inputs and to trained params) in
// the interpreter, compiled with and without the optimization passes, on
// the same values in each example's domain, and compares outputs, the
// loss and the training steps with opcheck's tolerances.
func TestPassesPreserveOpModels(t *testing.T) {
	cases, _, fails := opcheck.Plan(ir.Ops())
	for _, f := range fails {
		t.Logf("opcheck cannot build %v", f) // reported by opcheck's own tests
	}
	require.NotEmpty(t, cases)
	for _, c := range cases {
		t.Run(c.Op.Name, func(t *testing.T) {
			feed := opcheck.NewFeed(c)
			want, err := opcheck.Reference(c, feed) // c.Graph is optimized
			require.NoError(t, err)
			plain, err := compiler.Compile(c.Name+".flow", []byte(c.Source), compiler.Options{NoOptimize: true})
			require.NoError(t, err)
			unoptimized := *c
			unoptimized.Graph = plain
			got, err := opcheck.Reference(&unoptimized, feed)
			require.NoError(t, err)
			for _, msg := range opcheck.Compare(c, feed, got, want) {
				t.Error(msg)
			}
		})
	}
}
