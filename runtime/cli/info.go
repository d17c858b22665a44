package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/flow-lang/flow/runtime"
)

func runInfo(e *env, args []string) error {
	fs := e.newFlags("info", "[--json]",
		"Info describes the model: its source, inputs, outputs, parameters,\n"+
			"loss and optimizer.")
	asJSON := fs.Bool("json", false, "print the model's signature as JSON")
	if err := parse(fs, args); err != nil {
		return err
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
	if *asJSON {
		s := *sig
		s.Params, s.ParamCount = params, count
		b, err := json.MarshalIndent(&s, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	row("model:", or(sig.Model, "(unnamed)"))
	row("source:", or(sig.Source, "(unknown)"))
	section := func(title string, specs []runtime.TensorSpec, withCount bool) {
		row(title + ":")
		if len(specs) == 0 {
			row("", "(none)")
		}
		for _, s := range specs {
			if withCount {
				row("", s.Name, s.String(), fmt.Sprint(s.Elems(0)))
			} else {
				row("", s.Name, s.String())
			}
		}
	}
	section("inputs", sig.Inputs, false)
	section("outputs", sig.Outputs, false)
	section("params", params, true)
	row("parameters:", fmt.Sprintf("%d (%s as f32)", count, byteSize(4*int64(count))))
	row("predict inputs:", or(strings.Join(sig.PredictInputs, ", "), "(none)"))
	row("train inputs:", or(strings.Join(sig.TrainInputs, ", "), "(none)"))
	row("loss:", or(sig.Loss, "(none)"))
	row("optimizer:", or(sig.Optimizer, "(none)"))
	if sig.MaxBatch > 0 {
		row("max batch:", fmt.Sprint(sig.MaxBatch))
	}
	return tw.Flush()
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
