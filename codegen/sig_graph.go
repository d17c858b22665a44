package codegen

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// The model's graph in its signature (runtime.Signature.Graph), for
// viewers such as TensorBoard. It is emitted as a raw string of JSON
// lines, one node per line, decoded once by runtime.DecodeGraph: a
// few hundred struct literals would be thousands of generated lines.

// graphNodeJSON is one line of the emitted graph: runtime.GraphNode's
// JSON form.
type graphNodeJSON struct {
	Name   string   `json:"name"`
	Op     string   `json:"op"`
	Inputs []string `json:"inputs,omitempty"`
	DType  string   `json:"dtype"`
	Shape  []int    `json:"shape"`
	Role   string   `json:"role,omitempty"`
	Device string   `json:"device,omitempty"`
}

// addGraph sets the signature dict's Graph to the compiled graph.
func (c *gen) addGraph(dict map[string]jen.Code) {
	nodes := c.g.Schedule(c.g.Roots()...)
	names := graphNames(nodes)
	var b strings.Builder
	for _, n := range nodes {
		e := graphNodeJSON{Name: names[n], Op: n.Op.Name, DType: n.Type.DType.String(), Shape: []int{}, Device: n.Device}
		for _, in := range n.Inputs {
			e.Inputs = append(e.Inputs, names[in])
		}
		for _, d := range n.Type.Shape {
			if d.IsSym() {
				e.Shape = append(e.Shape, -1)
			} else {
				e.Shape = append(e.Shape, d.Size)
			}
		}
		if n.Role != ir.Forward {
			e.Role = n.Role.String()
		}
		line, err := json.Marshal(e)
		if err != nil {
			panic(err) // strings and ints only
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return
	}
	c.f.Comment("graphJSON is the compiled graph, one node per line (runtime.DecodeGraph).")
	c.f.Const().Id("graphJSON").Op("=").Op("`" + b.String() + "`")
	dict["Graph"] = jen.Qual(RuntimePath, "DecodeGraph").Call(jen.Id("graphJSON"))
}

// graphNames gives every node a unique name: its source name when no
// other node has it, else its op and IR number ("matmul_12").
func graphNames(nodes []*ir.Node) map[*ir.Node]string {
	count := map[string]int{}
	for _, n := range nodes {
		if n.Name != "" {
			count[n.Name]++
		}
	}
	out := map[*ir.Node]string{}
	for _, n := range nodes {
		if n.Name != "" && count[n.Name] == 1 && !strings.Contains(n.Name, "`") {
			out[n] = n.Name
		} else {
			out[n] = n.Op.Name + "_" + strconv.Itoa(n.ID)
		}
	}
	return out
}
