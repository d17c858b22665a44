// Package gen holds the generated Go packages of the models in examples/,
// one sub-package each. They are golden files that compile: package
// codegen's tests regenerate them (go test ./codegen -update) and this
// package's tests run them against the reference interpreter.
package gen
