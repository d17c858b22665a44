module github.com/flow-lang/flow/bench

go 1.26

replace github.com/flow-lang/flow => ../

require (
	github.com/flow-lang/flow v0.0.0
	gonum.org/v1/gonum v0.17.0
)
