package cli

import (
	"encoding/json"
	"fmt"
	"strings"

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

	var b strings.Builder
	field := func(key, value string) {
		if value == "" {
			value = "(none)"
		}
		fmt.Fprintf(&b, "%-12s%s\n", key+":", value)
	}
	field("model", sig.Model)
	field("source", sig.Source)
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
	field("loss", sig.Loss)
	field("optimizer", sig.Optimizer)
	if sig.MaxBatch > 0 {
		field("max batch", fmt.Sprint(sig.MaxBatch))
	}
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
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
