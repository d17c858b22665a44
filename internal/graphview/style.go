package graphview

// The drawing's colours. Ops are filled by role; inputs, params and
// constants by kind; devices colour a node's outline.
const (
	colorForward = "#dbe9f6"
	colorGrad    = "#fdd9b5"
	colorUpdate  = "#f6b9b9"
	colorInput   = "#c7e9c0"
	colorParam   = "#fff2a8"
	colorState   = "#f2ecd0"
	colorConst   = "#eeeeee"
	colorOutline = "#333333"
	colorCluster = "#7b52ae"
	// colorRegion outlines the regions of control-flow nodes, filled
	// with colorRegionFill (nested regions darker in SVG).
	colorRegion     = "#5a7d9a"
	colorRegionFill = "#f4f7fa"
	colorEdge       = "#666666"
	colorEdgeGrad   = "#c8741f"
	colorEdgeUpd    = "#b83232"
)

// devicePalette colours the outlines of nodes placed on devices, in the
// order of Graph.Devices; it repeats after its end.
var devicePalette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// DeviceColor returns the outline colour of the i-th device of
// Graph.Devices.
func DeviceColor(i int) string { return devicePalette[i%len(devicePalette)] }

// fill returns the fill colour of n.
func fill(n *Node) string {
	switch n.Kind {
	case KindInput:
		return colorInput
	case KindParam:
		if !n.Trainable {
			return colorState
		}
		return colorParam
	case KindConst:
		return colorConst
	}
	return roleColor(n.Role)
}

func roleColor(role string) string {
	switch role {
	case "grad":
		return colorGrad
	case "update":
		return colorUpdate
	}
	return colorForward
}

// edgeColor colours an edge by the role of the node it feeds.
func edgeColor(to *Node) string {
	switch to.Role {
	case "grad":
		return colorEdgeGrad
	case "update":
		return colorEdgeUpd
	}
	return colorEdge
}

// outline returns n's outline colour and width: its device's colour,
// or the default.
func (g *Graph) outline(n *Node) (string, float64) {
	if n.Device == "" {
		return colorOutline, 1
	}
	for i, d := range g.Devices {
		if d == n.Device {
			return DeviceColor(i), 2.5
		}
	}
	return colorOutline, 1
}

// dotShape is the Graphviz shape of each kind.
func dotShape(k Kind) string {
	switch k {
	case KindInput:
		return "invhouse"
	case KindParam:
		return "box3d"
	case KindConst:
		return "note"
	}
	return "box"
}

// marked reports whether the graph uses n as an output or loss; such
// nodes get a double outline.
func marked(n *Node) bool {
	for _, m := range n.Marks {
		if len(m) >= 6 && m[:6] == "output" || m == "loss" || m == "train loss" {
			return true
		}
	}
	return false
}
