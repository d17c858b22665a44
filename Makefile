# Every command a contributor needs. The README's two commands do not need
# make; these are conveniences.

.PHONY: test mnist golden fuzz bench vet

# The whole test suite (what CI runs).
test:
	go test ./...

# Build the seed's MNIST model and train it end to end.
mnist:
	go run ./cmd/flowc build examples/mnist_softmax.flow -o bin/mnist_softmax
	bin/mnist_softmax train --steps 1000 --batch 100

# Regenerate golden files (generated Go, IR dumps); review the diff.
golden:
	go test ./codegen ./compiler -update
	git diff --stat

# Run every fuzzer for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./lang
	go test -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) ./compiler
	go test -run '^$$' -fuzz '^FuzzDecodeImages$$' -fuzztime $(FUZZTIME) ./runtime/mnist
	go test -run '^$$' -fuzz '^FuzzDecodeLabels$$' -fuzztime $(FUZZTIME) ./runtime/mnist
	go test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./runtime/checkpoint
	go test -run '^$$' -fuzz '^FuzzParseSafetensors$$' -fuzztime $(FUZZTIME) ./compiler
	go test -run '^$$' -fuzz '^FuzzParseProfile$$' -fuzztime $(FUZZTIME) ./compiler/cost
	go test -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME) ./runtime/serve
	go test -run '^$$' -fuzz '^FuzzScanNumber$$' -fuzztime $(FUZZTIME) ./runtime/serve
	go test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./runtime/data/csvdata
	go test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./runtime/data/npy
	go test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./runtime/data/tfrecord
	go test -run '^$$' -fuzz '^FuzzDecodeExample$$' -fuzztime $(FUZZTIME) ./runtime/data/tfrecord

# Benchmarks: generated models and runtime kernels; the harness against
# gonum and (when installed) PyTorch is `cd bench && go run .`.
bench:
	go test -run '^$$' -bench . -count 5 ./examples/gen ./runtime ./runtime/serve

vet:
	gofmt -l . | (! grep .)
	go vet ./...
