package cli

import (
	"fmt"

	"github.com/flow-lang/flow/runtime"
)

// lossUnit is how the commands report a model's loss: per example, the
// same figure for any batch size, when the signature says how the loss
// combines a batch's examples (Signature.LossReduction); otherwise per
// batch, for the batch size it was computed at, and labelled so.
type lossUnit struct {
	reduction  runtime.LossReduction
	perExample bool
	loss       string // the loss's name in the model
}

// lossUnitOf returns the unit the commands report sig's loss in.
func lossUnitOf(sig *runtime.Signature) lossUnit {
	_, known := sig.LossReduction.PerExample(0, 1)
	return lossUnit{reduction: sig.LossReduction, perExample: known, loss: sig.Loss}
}

// of returns the loss a call on a batch of n examples returned, in the
// unit.
func (u lossUnit) of(loss float64, n int) float64 {
	v, _ := u.reduction.PerExample(loss, n)
	return v
}

// label names the unit for a batch of n examples: "per example", or
// "per batch of n".
func (u lossUnit) label(n int) string {
	if u.perExample {
		return "per example"
	}
	return fmt.Sprintf("per batch of %d", n)
}

// key returns name with the unit appended, as the JSON keys say it:
// "test_loss_per_example", or "test_loss_per_batch".
func (u lossUnit) key(name string) string {
	if u.perExample {
		return name + "_per_example"
	}
	return name + "_per_batch"
}

// why explains a loss reported per batch; "" for one per example.
func (u lossUnit) why() string {
	if u.perExample {
		return ""
	}
	return fmt.Sprintf(" (the compiler could not tell how the loss %s combines a batch's examples, so it cannot be put per example)", u.loss)
}
