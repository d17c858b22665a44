package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flow-lang/flow/runtime"
)

func runInfo(e *env, args []string) error {
	fs := e.newFlags("info", "[--json] [--measure]",
		"Info describes the model from its signature, without running it: its\n"+
			"source, inputs, outputs, parameters, loss and optimizer, and the\n"+
			"compiler's cost-model estimates of a call's time. With --measure it\n"+
			"also times a few such calls on synthetic inputs (as bench does) and\n"+
			"shows each estimate beside the measured median.")
	asJSON := fs.Bool("json", false, "print the model's signature as JSON")
	measure := fs.Bool("measure", false, "also time the calls the cost model estimated (runs the model)")
	fs.Bool("no-measure", false, "do not time any call: the default, accepted for older scripts")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *measure && isSet(fs, "no-measure") {
		return &usageError{msg: "info: give --measure or --no-measure, not both", usage: fs.Usage}
	}
	sig := e.model.Signature()
	if sig == nil {
		return fmt.Errorf("model has no signature")
	}
	params := sig.Params
	if len(params) == 0 {
		for _, p := range e.model.Params() {
			params = append(params, runtime.TensorSpec{Name: p.Name, DType: "f32", Shape: p.Shape})
		}
	}
	count := sig.ParamCount
	if count == 0 {
		for _, p := range params {
			count += p.Elems(0)
		}
	}
	estimates := measureEstimates(e.model, sig.Estimates, *measure)
	if *asJSON {
		s := *sig
		s.Params, s.ParamCount = params, count
		b, err := json.MarshalIndent(&infoJSON{Signature: &s, Estimates: estimates}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}

	var b strings.Builder
	field := func(key, value string) {
		if value == "" {
			value = "(none)"
		}
		fmt.Fprintf(&b, "%-12s%s\n", key+":", value)
	}
	field("model", sig.Model)
	field("source", sig.Source)
	if len(sig.Syms) > 1 {
		// Several symbolic dimensions: the batch and the others (a
		// sequence length, say), each sized per call.
		field("dims", fmt.Sprintf("%s (the batch), %s: symbolic, sized per call (predict derives them from the input)", sig.Syms[0], strings.Join(sig.Syms[1:], ", ")))
	}
	// The three tensor lists share column widths so they line up.
	nameW, typeW, countW := 0, 0, 0
	for _, list := range [][]runtime.TensorSpec{sig.Inputs, sig.Outputs, params} {
		for _, s := range list {
			nameW = max(nameW, len(s.Name))
			typeW = max(typeW, len(s.String()))
		}
	}
	for _, p := range params {
		countW = max(countW, len(fmt.Sprint(p.Elems(0))))
	}
	table := func(title string, specs []runtime.TensorSpec, withCount bool) {
		fmt.Fprintf(&b, "%s:\n", title)
		if len(specs) == 0 {
			b.WriteString("  (none)\n")
		}
		for _, s := range specs {
			if withCount {
				fmt.Fprintf(&b, "  %-*s  %-*s  %*d\n", nameW, s.Name, typeW, s.String(), countW, s.Elems(0))
			} else {
				fmt.Fprintf(&b, "  %-*s  %s\n", nameW, s.Name, s.String())
			}
		}
	}
	table("inputs", sig.Inputs, false)
	table("outputs", sig.Outputs, false)
	table("params", params, true)
	field("parameters", fmt.Sprintf("%d (%s as f32)", count, byteSize(4*int64(count))))
	field("predict", strings.Join(sig.PredictInputs, ", "))
	field("train", strings.Join(sig.TrainInputs, ", "))
	field("loss", lossDescription(sig))
	field("optimizer", sig.Optimizer)
	if sig.MaxBatch > 0 {
		field("max batch", fmt.Sprint(sig.MaxBatch))
	}
	writeEstimates(&b, estimates, *measure)
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}

// lossDescription names sig's loss and says how it combines a batch's
// examples, and so how train and eval report it; "" without a loss.
func lossDescription(sig *runtime.Signature) string {
	switch {
	case sig.Loss == "":
		return ""
	case sig.LossReduction == runtime.LossSum:
		return sig.Loss + ", a sum over the batch (reported per example: divided by the batch size)"
	case sig.LossReduction == runtime.LossMean:
		return sig.Loss + ", a mean over the batch (reported per example as it is)"
	}
	return sig.Loss + " (reported per batch: the compiler could not tell how it combines a batch's examples)"
}

// infoJSON is what info --json prints: the signature, with each estimate
// extended by its measurement.
type infoJSON struct {
	*runtime.Signature
	// Estimates shadows Signature.Estimates.
	Estimates []measuredEstimate `json:"estimates,omitempty"`
}

// measuredEstimate is a cost-model estimate beside the measured time of
// the same call.
type measuredEstimate struct {
	runtime.Estimate
	// MeasuredUS is the median time of a few calls, in microseconds; nil
	// when the call was not timed.
	MeasuredUS *float64 `json:"measured_us,omitempty"`
	// Ratio is the estimate over the measured time.
	Ratio *float64 `json:"ratio,omitempty"`
	// Error says why the call could not be timed.
	Error string `json:"error,omitempty"`
}

// Settings of info's measurements: short, since info should answer fast.
const (
	infoWarmup     = 1
	infoIterations = 3
	infoTarget     = 300 * time.Millisecond
)

// measureEstimates times, when measure is set, the call of each estimate
// at its batch size.
func measureEstimates(m runtime.Model, ests []runtime.Estimate, measure bool) []measuredEstimate {
	out := make([]measuredEstimate, len(ests))
	for i, est := range ests {
		out[i].Estimate = est
		if !measure {
			continue
		}
		switch {
		case est.Program != "predict" && est.Program != "train":
			out[i].Error = fmt.Sprintf("cannot time program %q", est.Program)
			continue
		case est.Batch <= 0:
			out[i].Error = fmt.Sprintf("cannot time batch %d", est.Batch)
			continue
		}
		// At least infoIterations calls, more for fast ones.
		res, err := benchmark(m, benchConfig{
			what: est.Program, batch: est.Batch, warmup: infoWarmup, minIterations: infoIterations, target: infoTarget,
		})
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		measured := res.MedianUS
		out[i].MeasuredUS = &measured
		if measured > 0 {
			ratio := est.Micros / measured
			out[i].Ratio = &ratio
		}
	}
	return out
}

// writeEstimates renders the estimates as a table, with the measured
// columns when they were measured; nothing when there are none.
func writeEstimates(b *strings.Builder, ests []measuredEstimate, measured bool) {
	if len(ests) == 0 {
		return
	}
	if !measured {
		b.WriteString("estimates (the cost model's; info --measure times them):\n")
	} else {
		b.WriteString("estimates:\n")
	}
	rows := [][]string{{"program", "batch", "estimate", "measured", "est/measured"}}
	if !measured {
		rows[0] = rows[0][:3]
	}
	var reasons []string
	for _, est := range ests {
		row := []string{est.Program, fmt.Sprint(est.Batch), micros(est.Micros), "-", "-"}
		if !measured {
			rows = append(rows, row[:3])
			reasons = append(reasons, "")
			continue
		}
		reason := ""
		switch {
		case est.Error != "":
			row[3], reason = "n/a", "  ("+est.Error+")"
		case est.MeasuredUS != nil:
			row[3] = micros(*est.MeasuredUS)
			if est.Ratio != nil {
				row[4] = fmt.Sprintf("%.2f", *est.Ratio)
			}
		}
		rows = append(rows, row)
		reasons = append(reasons, reason)
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for j, cell := range row {
			widths[j] = max(widths[j], utf8.RuneCountInString(cell))
		}
	}
	for i, row := range rows {
		b.WriteString(" ")
		for j, cell := range row {
			pad := widths[j] - utf8.RuneCountInString(cell)
			if j == 0 {
				fmt.Fprintf(b, " %s%s", cell, strings.Repeat(" ", pad))
			} else {
				fmt.Fprintf(b, "  %s%s", strings.Repeat(" ", pad), cell)
			}
		}
		if i > 0 {
			b.WriteString(reasons[i-1])
		}
		b.WriteString("\n")
	}
}

// byteSize renders n bytes with a binary unit.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
