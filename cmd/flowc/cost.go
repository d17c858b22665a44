package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// maxCostBatch is the largest batch size flowc cost estimates at: the
// cost model's counts are capped (cost.count) beyond sizes this large.
const maxCostBatch = 1 << 20

// cmdCost prints the cost model's per-node table and totals for a
// model's predict program and training step.
func cmdCost(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("cost", "cost model.flow [--batch N] [--json] [--profile FILE]", stderr)
	batch := fs.Int("batch", 64, "bind the symbolic batch dimension to `N`")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	profile := fs.String("profile", "", "read the machine profile from `FILE` (default: $FLOW_PROFILE, else the calibrated profile if any, else built-in)")
	model := fs.String("model", "", "the model to cost when the file declares several")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	if *batch < 1 || *batch > maxCostBatch {
		fmt.Fprintf(stderr, "flowc: --batch %d: want a batch size from 1 to %d\n", *batch, maxCostBatch)
		return 2
	}
	p, err := loadProfile(*profile)
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	g, err := compileFile(files[0], *model, stderr)
	if err != nil {
		return 1
	}
	// What the generated code does: operands computed in their consumers'
	// loops, loops split across goroutines.
	fused, split := codegen.Fusion(g, p)
	predict, train := cost.PredictFused(g, p, *batch, fused, split), cost.TrainFused(g, p, *batch, fused, split)
	if *asJSON {
		return printCostJSON(stdout, stderr, p, *batch, predict, train)
	}
	fmt.Fprintf(stdout, "%s at batch %d; profile: %s\n", g.Name, *batch, p.Source)
	for _, pr := range []*cost.Program{predict, train} {
		if pr != nil {
			printCostTable(stdout, pr)
		}
	}
	fmt.Fprintln(stdout)
	if predict != nil {
		fmt.Fprintf(stdout, "predict:    %s est. (%s)\n", formatMicros(predict.Micros), workSummary(predict))
	}
	if train != nil {
		fmt.Fprintf(stdout, "train step: %s est. (%s)\n", formatMicros(train.Micros), workSummary(train))
	}
	return 0
}

// loadProfile reads the profile file path, or when path is empty the
// profile builds use (FLOW_PROFILE, the calibrated file, the defaults).
func loadProfile(path string) (*cost.Profile, error) {
	if path != "" {
		return cost.Load(path)
	}
	p, _, err := cost.LoadDefault()
	return p, err
}

// costNode is one row of `flowc cost --json`: a node's estimate in one
// program.
type costNode struct {
	Program string `json:"program"`
	cost.NodeEstimate
}

// printCostJSON prints the JSON form of the cost report; the keys
// predict_us_est and train_step_us_est are a contract with later checks.
func printCostJSON(stdout, stderr io.Writer, p *cost.Profile, batch int, predict, train *cost.Program) int {
	out := struct {
		Nodes       []costNode    `json:"nodes"`
		PredictUs   *float64      `json:"predict_us_est,omitempty"`
		TrainUs     *float64      `json:"train_step_us_est,omitempty"`
		PredictFLOP *float64      `json:"predict_flops,omitempty"`
		TrainFLOP   *float64      `json:"train_step_flops,omitempty"`
		Batch       int           `json:"batch"`
		Profile     *cost.Profile `json:"profile"`
	}{Nodes: []costNode{}, Batch: batch, Profile: p}
	for _, pr := range []*cost.Program{predict, train} {
		if pr == nil {
			continue
		}
		for _, e := range pr.Nodes {
			out.Nodes = append(out.Nodes, costNode{Program: pr.Name, NodeEstimate: e})
		}
	}
	if predict != nil {
		out.PredictUs, out.PredictFLOP = &predict.Micros, &predict.FLOPs
	}
	if train != nil {
		out.TrainUs, out.TrainFLOP = &train.Micros, &train.FLOPs
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", data)
	return 0
}

// printCostTable prints one program's per-node estimates.
func printCostTable(w io.Writer, pr *cost.Program) {
	title := "predict"
	if pr.Name == "train" {
		title = "train step"
	}
	fmt.Fprintf(w, "\n%s, batch %d\n", title, pr.Batch)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\top\tshape\tinputs\tFLOPs\tbytes\test µs\tthreads\tkernel\twhy\t")
	for _, e := range pr.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%d\t%s\t%s\t\n",
			e.Name, e.Op, e.Shape, strings.Join(e.Inputs, " "), formatCount(e.FLOPs), formatCount(e.BytesRead+e.BytesWritten),
			e.Micros, e.Threads, e.Kernel, e.Reason)
	}
	fmt.Fprintf(tw, "total\t\t\t\t%s\t%s\t%.1f\t\t\t\t\n", formatCount(pr.FLOPs), formatCount(pr.Bytes), pr.Micros)
	tw.Flush()
}

// workSummary describes a program's total work.
func workSummary(pr *cost.Program) string {
	return fmt.Sprintf("%d nodes, %s FLOPs, %s bytes", len(pr.Nodes), formatCount(pr.FLOPs), formatCount(pr.Bytes))
}

// formatCount renders a count with a metric suffix: 1.57M.
func formatCount(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// formatMicros renders a time in µs, ms or s.
func formatMicros(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2f s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2f ms", us/1e3)
	}
	return fmt.Sprintf("%.1f µs", us)
}

// generateProfiled is generate for builds: it passes codegen the machine
// profile builds use (FLOW_PROFILE, the calibrated file, else the
// built-in one), so the binary's signature carries this machine's
// estimates. The source name is made relative as generate does.
func generateProfiled(g *ir.Module, path, pkg string) ([]byte, error) {
	p, err := loadProfile("")
	if err != nil {
		return nil, err
	}
	src := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		src = filepath.Base(path)
	}
	return codegen.Generate(g, codegen.Options{Package: pkg, Source: src, Profile: p})
}
