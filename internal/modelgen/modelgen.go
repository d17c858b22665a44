// Package modelgen writes synthetic .flow models of a chosen size: the
// inputs of flowc's compile-time benchmarks, which check that compiling
// grows linearly with the model. Each generator returns source text that
// flowc compiles; none of it depends on the machine.
package modelgen

import (
	"fmt"
	"strings"
)

// DeepMLP returns a model of `layers` fully connected tanh layers of
// `width` units on an input of `width` features, trained with SGD on the
// mean squared error: the deep, narrow network whose training graph
// grows by about 17 IR nodes per layer.
func DeepMLP(layers, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// %d tanh layers of width %d, trained with SGD.\n", layers, width)
	fmt.Fprintf(&b, "model Deep%d {\n", layers)
	fmt.Fprintf(&b, "    input x: f32[N, %d]\n", width)
	fmt.Fprintf(&b, "    input y: f32[N, %d]\n\n", width)
	prev := "x"
	for i := 1; i <= layers; i++ {
		fmt.Fprintf(&b, "    param W%d: f32[%d, %d] = glorot_uniform(seed = %d)\n", i, width, width, i)
		fmt.Fprintf(&b, "    param b%d: f32[%d] = zeros\n", i, width)
		fmt.Fprintf(&b, "    h%d = tanh(%s @ W%d + b%d)\n", i, prev, i, i)
		prev = fmt.Sprintf("h%d", i)
	}
	fmt.Fprintf(&b, "\n    loss = mean(square(%s - y))\n", prev)
	fmt.Fprintf(&b, "    output %s\n", prev)
	b.WriteString("    train loss with sgd(lr = 0.01)\n}\n")
	return b.String()
}

// LongSum returns a model whose output is one expression of `terms`
// operands, x + x + … + x: a left-leaning chain of `terms`-1 additions
// written on one line.
func LongSum(terms int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model Sum%d {\n    input x: f32[N, 4]\n    y = x", terms)
	for i := 1; i < terms; i++ {
		b.WriteString(" + x")
	}
	b.WriteString("\n    output y\n}\n")
	return b.String()
}

// NestedNeg returns a model whose output is x under `depth` unary
// minuses, - - … - x: an expression nested `depth` deep.
func NestedNeg(depth int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model Neg%d {\n    input x: f32[N, 4]\n    y = ", depth)
	for i := 0; i < depth; i++ {
		b.WriteString("-")
	}
	b.WriteString("x\n    output y\n}\n")
	return b.String()
}
