package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters of the train-mode ops (compiler/ir/ops_train_mode.go). The
// compiler's train-mode lowering leaves dropout as its inference variant
// (a copy), gives training steps dropout_mask, and replaces every
// batch_norm by element-wise ops and reductions.
func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Dropout: emitElementwise(func(a []*jen.Statement) jen.Code { return a[0] }),
		ir.DropoutMask: func(c *gen, n *ir.Node) (jen.Code, error) {
			step := n.Inputs[1]
			return jen.Qual(RuntimePath, "DropoutMask").Call(jen.Id(c.operand(n)), jen.Id(c.operand(step)).Index(jen.Lit(0)),
				jen.Lit(n.Attrs.Float("rate", 0)), jen.Lit(uint64(n.Attrs.Int("seed", 0)))), nil
		},
		ir.BatchNorm: func(c *gen, n *ir.Node) (jen.Code, error) {
			return nil, fmt.Errorf("batch_norm reached code generation; the compiler lowers it to element-wise ops and reductions first (internal error)")
		},
	})
}
