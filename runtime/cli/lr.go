package cli

import (
	"math"
	"strconv"
	"strings"
)

// learningRate returns the learning rate the optimizer described by opt
// (Signature.Optimizer, e.g. "adam(lr=0.001, schedule=cosine,
// decay_steps=2000)") uses for the training step that follows done earlier
// steps, following the compiler's schedules: constant, step, exponential
// and cosine. It returns NaN when opt does not say (no "lr=" argument, or
// an unknown schedule).
func learningRate(opt string, done int) float64 {
	open := strings.IndexByte(opt, '(')
	if open < 0 || !strings.HasSuffix(opt, ")") {
		return math.NaN()
	}
	args := map[string]string{}
	for _, kv := range strings.Split(opt[open+1:len(opt)-1], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			args[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	num := func(key string, def float64) float64 {
		v, ok := args[key]
		if !ok {
			return def
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	lr := num("lr", math.NaN())
	s := float64(done)
	ds := num("decay_steps", 1)
	switch args["schedule"] {
	case "", "constant":
		return lr
	case "step":
		return lr * math.Pow(num("decay_rate", 1), math.Floor(s/ds))
	case "exponential":
		return lr * math.Pow(num("decay_rate", 1), s/ds)
	case "cosine":
		alpha := num("alpha", 0)
		return lr * ((1-alpha)*0.5*(1+math.Cos(math.Pi*min(s, ds)/ds)) + alpha)
	}
	return math.NaN()
}
