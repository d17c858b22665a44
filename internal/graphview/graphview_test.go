package graphview

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const tinySource = `model Tiny {
    input x: f32[N, 3]
    input y: f32[N, 2]
    param W: f32[3, 2] = zeros
    param b: f32[2] = zeros
    z = relu(x @ W + b)
    loss = mean(square(z - y))
    output z
    train loss with sgd(lr = 0.1)
}
`

// compile compiles src and snapshots its final graph with codegen's
// fused groups under the built-in cost profile.
func compile(t testing.TB, name string, src []byte) (*ir.Module, *Graph) {
	t.Helper()
	g, err := compiler.Compile(name, src, compiler.Options{Profile: cost.Default()})
	require.NoError(t, err)
	fusion, _ := codegen.Fusion(g, cost.Default())
	return g, FromIR(g, "", fusion)
}

func TestDOTGolden(t *testing.T) {
	_, v := compile(t, "tiny.flow", []byte(tinySource))
	var b bytes.Buffer
	require.NoError(t, WriteDOT(&b, v))
	golden := filepath.Join("testdata", "tiny.dot")
	if *update {
		require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./internal/graphview -update to create the golden file")
	require.Equal(t, string(want), b.String())
	// Deterministic: a second snapshot of a second compilation writes
	// the same bytes.
	_, v2 := compile(t, "tiny.flow", []byte(tinySource))
	var b2 bytes.Buffer
	require.NoError(t, WriteDOT(&b2, v2))
	require.Equal(t, b.String(), b2.String())
}

func TestSnapshotKindsRolesAndMarks(t *testing.T) {
	g, v := compile(t, "tiny.flow", []byte(tinySource))
	require.Len(t, v.Nodes, len(g.Body.Nodes))
	kinds := map[Kind]int{}
	roles := map[string]int{}
	for _, n := range v.Nodes {
		kinds[n.Kind]++
		roles[n.Role]++
		if n.Name == "W" {
			require.Equal(t, KindParam, n.Kind)
			require.Equal(t, "f32", n.DType)
			require.Equal(t, "[3,2]", n.Shape)
			require.Equal(t, 4, n.Line)
			require.Equal(t, []string{"param", "W", "f32[3,2]"}, n.Label())
		}
		if n.Name == "x" {
			require.Equal(t, KindInput, n.Kind)
		}
	}
	require.Equal(t, 2, kinds[KindInput])
	require.Equal(t, 2, kinds[KindParam])
	require.Positive(t, kinds[KindOp])
	require.Positive(t, roles["grad"])
	assigns := 0
	for _, n := range v.Nodes {
		if n.Op == "assign" {
			require.Equal(t, "update", n.Role)
			assigns++
		}
	}
	require.Equal(t, 2, assigns) // one per param with sgd
	require.Positive(t, roles["update"])
	marks := map[string]bool{}
	for _, n := range v.Nodes {
		for _, m := range n.Marks {
			marks[m] = true
		}
	}
	for _, m := range []string{"output z", "loss", "grad of W", "grad of b"} {
		require.True(t, marks[m], m)
	}
}

// TestSourceOfImportedNodes checks that a node made by a function of an
// imported file names that file, not the model's, in its details.
func TestSourceOfImportedNodes(t *testing.T) {
	path := "../../examples/mlp.flow"
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	_, v := compile(t, path, src)
	var w, x *Node
	for _, n := range v.Nodes {
		switch n.Name {
		case "logits/h1/W":
			w = n
		case "x":
			x = n
		}
	}
	require.NotNil(t, w)
	require.NotNil(t, x)
	// param W: ... = glorot_uniform is line 14 of std/layers.flow.
	require.Equal(t, "../../examples/std/layers.flow", filepath.ToSlash(w.File))
	require.Equal(t, 14, w.Line)
	require.Contains(t, v.Details(w), "\nsource: ../../examples/std/layers.flow:14:")
	require.Empty(t, x.File, "a node of the model's own file")
	require.Contains(t, v.Details(x), "\nsource: ../../examples/mlp.flow:11:")
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, v, SVG(v)))
	require.Contains(t, page.String(), `(n.file||data.source)`, "the viewer shows a node's own file")
}

func TestFusedGroupsFollowConsumerChains(t *testing.T) {
	g := ir.NewModule("G", "g.flow")
	x := g.MustApply(ir.Input, nil, ir.Attrs{"dtype": ir.F32, "shape": ir.Shp(4)})
	a := g.MustApply(ir.Neg, []*ir.Node{x}, nil)
	b := g.MustApply(ir.Exp, []*ir.Node{a}, nil)
	c := g.MustApply(ir.Relu, []*ir.Node{b}, nil)
	d := g.MustApply(ir.Neg, []*ir.Node{x}, nil)
	e := g.MustApply(ir.Add, []*ir.Node{c, d}, nil)
	// a and b fuse into c; d into e; c is not fused: two groups.
	v := FromIR(g, "", map[*ir.Node]*ir.Node{a: b, b: c, d: e})
	require.Equal(t, [][]int{{a.ID, b.ID, c.ID}, {d.ID, e.ID}}, v.Groups)
	require.Equal(t, 1, v.Node(a.ID).Group)
	require.Equal(t, 2, v.Node(e.ID).Group)
	require.Equal(t, 0, v.Node(x.ID).Group)
	var dot bytes.Buffer
	require.NoError(t, WriteDOT(&dot, v))
	require.Contains(t, dot.String(), "subgraph cluster_fused1 {")
	require.Contains(t, dot.String(), "subgraph cluster_fused2 {")
	// A chain into the same node twice (e = d + d) draws two edges.
	f := g.MustApply(ir.Add, []*ir.Node{d, d}, nil)
	v = FromIR(g, "", nil)
	ids := map[string]bool{}
	for _, e := range v.edges() {
		ids[e.id()] = true
	}
	require.True(t, ids[fmt.Sprintf("e%d_%d_0", d.ID, f.ID)])
	require.True(t, ids[fmt.Sprintf("e%d_%d_1", d.ID, f.ID)])
}

func TestDevicesColourOutlines(t *testing.T) {
	g, err := compiler.Compile("tiny.flow", []byte(tinySource), compiler.Options{})
	require.NoError(t, err)
	for _, n := range g.Body.Nodes {
		switch n.Role {
		case ir.Backward:
			n.Device = "/device:GPU:0"
		case ir.Update:
			n.Device = "/device:CPU:0"
		}
	}
	v := FromIR(g, "", nil)
	require.Equal(t, []string{"/device:CPU:0", "/device:GPU:0"}, v.Devices)
	var dot bytes.Buffer
	require.NoError(t, WriteDOT(&dot, v))
	require.Contains(t, dot.String(), `color="`+DeviceColor(0)+`", penwidth=2.5`)
	require.Contains(t, dot.String(), `color="`+DeviceColor(1)+`", penwidth=2.5`)
	svg := string(SVG(v))
	require.Contains(t, svg, `stroke="`+DeviceColor(1)+`" stroke-width="2.5"`)
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, v, []byte(svg)))
	require.Contains(t, page.String(), "device /device:GPU:0")
}

// svgDoc is what the tests read back from an SVG.
type svgDoc struct {
	viewBox  [4]float64
	groups   map[string][]svgGroup // by class
	elements int
}

type svgGroup struct {
	id    string
	title string
	boxes [][4]float64 // rects: x, y, w, h
}

// parseSVG parses svg with encoding/xml, failing on malformed XML.
func parseSVG(t *testing.T, svg []byte) svgDoc {
	t.Helper()
	doc := svgDoc{groups: map[string][]svgGroup{}}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = true
	var stack []*svgGroup
	var classes []string
	inTitle := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			doc.elements++
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch tok.Name.Local {
			case "svg":
				if vb, ok := attr["viewBox"]; ok && doc.viewBox == [4]float64{} {
					_, err := fmt.Sscan(strings.ReplaceAll(vb, ",", " "), &doc.viewBox[0], &doc.viewBox[1], &doc.viewBox[2], &doc.viewBox[3])
					require.NoError(t, err)
				}
			case "g":
				stack = append(stack, &svgGroup{id: attr["id"]})
				classes = append(classes, attr["class"])
			case "title":
				inTitle = true
			case "rect":
				if len(stack) > 0 {
					var r [4]float64
					for i, k := range []string{"x", "y", "width", "height"} {
						fmt.Sscan(attr[k], &r[i])
					}
					top := stack[len(stack)-1]
					top.boxes = append(top.boxes, r)
				}
			}
		case xml.CharData:
			if inTitle && len(stack) > 0 {
				stack[len(stack)-1].title += string(tok)
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "title":
				inTitle = false
			case "g":
				top, class := stack[len(stack)-1], classes[len(classes)-1]
				stack, classes = stack[:len(stack)-1], classes[:len(classes)-1]
				doc.groups[class] = append(doc.groups[class], *top)
			}
		}
	}
	return doc
}

func TestGoSVGStructureAndLayout(t *testing.T) {
	for _, ex := range []string{"tiny", "lenet"} {
		t.Run(ex, func(t *testing.T) {
			var v *Graph
			if ex == "tiny" {
				_, v = compile(t, "tiny.flow", []byte(tinySource))
			} else {
				path := "../../examples/lenet.flow"
				src, err := os.ReadFile(path)
				require.NoError(t, err)
				_, v = compile(t, path, src)
				require.Greater(t, len(v.Nodes), 150)
			}
			doc := parseSVG(t, SVG(v))
			nodes := doc.groups["node"]
			require.Len(t, nodes, len(v.Nodes))
			require.Len(t, doc.groups["edge"], len(v.edges()))
			require.Len(t, doc.groups["cluster"], len(v.Groups))
			seen := map[string]bool{}
			for _, n := range nodes {
				require.Regexp(t, `^n\d+$`, n.id)
				require.False(t, seen[n.id], n.id)
				seen[n.id] = true
				require.NotEmpty(t, n.title)
			}
			for _, n := range v.Nodes {
				require.True(t, seen[fmt.Sprintf("n%d", n.ID)])
			}
			// The layout is drawable: every node inside the canvas, and
			// no two nodes overlap.
			l := newLayout(v)
			type box struct{ x0, y0, x1, y1 float64 }
			var boxes []box
			for _, n := range v.Nodes {
				vx := l.vs[l.index[n.ID]]
				b := box{vx.x - vx.w/2, vx.y - vx.h/2, vx.x + vx.w/2, vx.y + vx.h/2}
				require.GreaterOrEqual(t, b.x0, 0.0)
				require.GreaterOrEqual(t, b.y0, 0.0)
				require.LessOrEqual(t, b.x1, doc.viewBox[2])
				require.LessOrEqual(t, b.y1, doc.viewBox[3])
				boxes = append(boxes, b)
			}
			for i := range boxes {
				for j := i + 1; j < len(boxes); j++ {
					a, b := boxes[i], boxes[j]
					overlap := a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
					require.False(t, overlap, "nodes %v and %v overlap", v.Nodes[i].ID, v.Nodes[j].ID)
				}
			}
			// Every edge points down: operands are drawn above their users.
			for _, e := range v.edges() {
				require.Less(t, l.vs[l.index[e.from]].y, l.vs[l.index[e.to]].y)
			}
		})
	}
}

// naiveCrossings counts crossings between adjacent layers pair by pair.
func naiveCrossings(l *layout) int {
	total := 0
	for r := 0; r+1 < len(l.layers); r++ {
		var es [][2]int
		for _, v := range l.layers[r] {
			for _, u := range l.vs[v].down {
				es = append(es, [2]int{l.vs[v].pos, l.vs[u].pos})
			}
		}
		for i := range es {
			for j := i + 1; j < len(es); j++ {
				a, b := es[i], es[j]
				if (a[0] < b[0] && a[1] > b[1]) || (a[0] > b[0] && a[1] < b[1]) {
					total++
				}
			}
		}
	}
	return total
}

func TestOrderingReducesCrossings(t *testing.T) {
	src, err := os.ReadFile("../../examples/lenet.flow")
	require.NoError(t, err)
	_, v := compile(t, "lenet.flow", src)
	l := newLayout(v)
	require.Equal(t, naiveCrossings(l), l.crossings)
	require.Equal(t, l.crossings, l.countCrossings())
	// Against the initial order (IR order in every layer).
	for _, layer := range l.layers {
		sort.Ints(layer)
	}
	l.renumber()
	initial := l.countCrossings()
	require.Equal(t, naiveCrossings(l), initial)
	t.Logf("lenet: %d nodes, %d vertices, %d layers, crossings %d in IR order, %d after ordering",
		len(v.Nodes), len(l.vs), len(l.layers), initial, l.crossings)
	require.Less(t, l.crossings, initial/2)
}

func TestInversionsMatchNaiveCount(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		s := make([]int, rng.Intn(40))
		for i := range s {
			s[i] = rng.Intn(10)
		}
		want := 0
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if s[i] > s[j] {
					want++
				}
			}
		}
		require.Equal(t, want, inversions(s, make([]int, len(s))))
		require.True(t, sort.IntsAreSorted(s))
	}
}

func TestIsotonicIsMonotoneAndOptimal(t *testing.T) {
	// Hand-computed: pooling 3 and 1 (weights 1, 3) gives 1.5.
	require.Equal(t, []float64{0, 1.5, 1.5, 4}, isotonic([]float64{0, 3, 1, 4}, []float64{1, 1, 3, 1}))
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 100; trial++ {
		n := 1 + rng.Intn(8)
		tg, w := make([]float64, n), make([]float64, n)
		for i := range tg {
			tg[i], w[i] = rng.Float64()*10, 0.1+rng.Float64()
		}
		x := isotonic(tg, w)
		loss := func(x []float64) float64 {
			s := 0.0
			for i := range x {
				s += w[i] * (x[i] - tg[i]) * (x[i] - tg[i])
			}
			return s
		}
		for i := 1; i < n; i++ {
			require.LessOrEqual(t, x[i-1], x[i]+1e-12)
		}
		// No random monotone sequence does better.
		best := loss(x)
		for k := 0; k < 200; k++ {
			y := make([]float64, n)
			for i := range y {
				y[i] = rng.Float64() * 10
			}
			sort.Float64s(y)
			require.GreaterOrEqual(t, loss(y), best-1e-9)
		}
	}
}

var remoteRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)

func TestHTMLIsSelfContained(t *testing.T) {
	_, v := compile(t, "tiny.flow", []byte(tinySource))
	svg := SVG(v)
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, v, append([]byte(`<?xml version="1.0"?>`+"\n"), svg...)))
	page := b.String()
	require.False(t, remoteRef.MatchString(page), "the page refers to the network")
	require.NotContains(t, page, "<?xml")
	require.Contains(t, page, string(svg))
	require.Contains(t, page, `addEventListener("wheel"`)
	require.Contains(t, page, `addEventListener("mouseover"`)
	require.Equal(t, 1, strings.Count(page, "<svg"))
	// The node data parses and names every node.
	m := regexp.MustCompile(`(?s)<script type="application/json" id="flow-graph">(.*?)</script>`).FindStringSubmatch(page)
	require.NotNil(t, m)
	var data Graph
	require.NoError(t, json.Unmarshal([]byte(m[1]), &data))
	require.Len(t, data.Nodes, len(v.Nodes))
	require.Equal(t, v.Nodes[0].Op, data.Nodes[0].Op)
	// The script is valid JavaScript, when node is there to say so.
	if node, err := exec.LookPath("node"); err == nil {
		js := regexp.MustCompile(`(?s)<script>\n(.*?)</script>`).FindStringSubmatch(page)
		require.NotNil(t, js)
		f := filepath.Join(t.TempDir(), "viewer.js")
		require.NoError(t, os.WriteFile(f, []byte(js[1]), 0o644))
		out, err := exec.Command(node, "--check", f).CombinedOutput()
		require.NoError(t, err, string(out))
	}
}

func TestNamesAreEscaped(t *testing.T) {
	g := ir.NewModule(`A"<&>`, "a.flow")
	x := g.MustApply(ir.Input, nil, ir.Attrs{"dtype": ir.F32, "shape": ir.Shp(2)})
	x.Name = `x"<&>\`
	g.MustApply(ir.Neg, []*ir.Node{x}, nil)
	v := FromIR(g, "", nil)
	parseSVG(t, SVG(v))
	var dot bytes.Buffer
	require.NoError(t, WriteDOT(&dot, v))
	require.Contains(t, dot.String(), `label="input\nx\"<&>\\\nf32[2]"`)
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, v, SVG(v)))
	require.NotContains(t, page.String(), `x"<&>`)
}

func TestGraphvizSVG(t *testing.T) {
	_, v := compile(t, "tiny.flow", []byte(tinySource))
	if _, err := exec.LookPath("dot"); err != nil {
		_, err := GraphvizSVG(context.Background(), v)
		require.ErrorIs(t, err, ErrNoGraphviz)
		t.Skip("graphviz dot is not installed")
	}
	svg, err := GraphvizSVG(context.Background(), v)
	require.NoError(t, err)
	doc := parseSVG(t, svg)
	require.Len(t, doc.groups["node"], len(v.Nodes))
	require.Len(t, doc.groups["edge"], len(v.edges()))
	require.Len(t, doc.groups["cluster"], len(v.Groups))
	ids := map[string]bool{}
	for _, n := range doc.groups["node"] {
		ids[n.id] = true
	}
	for _, n := range v.Nodes {
		require.True(t, ids[fmt.Sprintf("n%d", n.ID)], "graphviz keeps the node ids")
	}
}

// TestHTMLViewerInChromium loads the page in headless Chromium (when it
// is installed), hovers the first node and turns the wheel, and reads
// back what the viewer did: the details panel names the node, and the
// view box shrank around the pointer.
func TestHTMLViewerInChromium(t *testing.T) {
	var browser string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if os.Getenv("FLOW_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("no chromium on PATH and FLOW_REQUIRE_CHROMIUM=1 (install the Debian package chromium)")
		}
		t.Skip("no chromium on PATH (set FLOW_REQUIRE_CHROMIUM=1 to make this a failure)")
	}
	_, v := compile(t, "tiny.flow", []byte(tinySource))
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, v, SVG(v)))
	first := v.Nodes[0]
	probe := `<script>
(function(){var g=document.getElementById("n` + fmt.Sprint(first.ID) + `");
g.querySelector("text").dispatchEvent(new MouseEvent("mouseover",{bubbles:true}));
var view=document.getElementById("view"),svg=view.querySelector("svg");var before=svg.getAttribute("viewBox");
view.dispatchEvent(new WheelEvent("wheel",{deltaY:-100,clientX:50,clientY:50,bubbles:true,cancelable:true}));
var lit=g.classList.contains("hl"),panel=document.getElementById("panel").textContent;
var br=svg.querySelector("g.edge[data-trunk]"),trunk="",trunkLit=false;
if(br){trunk=br.getAttribute("data-trunk");var to=document.getElementById("n"+/^e\d+_(\d+)_/.exec(br.id)[1]);
to.querySelector("text").dispatchEvent(new MouseEvent("mouseover",{bubbles:true}));
trunkLit=br.classList.contains("hl")&&document.getElementById(trunk).classList.contains("hl");}
document.body.setAttribute("data-probe",JSON.stringify({before:before,after:svg.getAttribute("viewBox"),
panel:panel,lit:lit,trunk:trunk,trunkLit:trunkLit}));})();
</script>`
	page := strings.Replace(b.String(), "</body>", probe+"</body>", 1)
	dir := t.TempDir()
	file := filepath.Join(dir, "page.html")
	require.NoError(t, os.WriteFile(file, []byte(page), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,800",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+file).Output()
	if err != nil {
		if os.Getenv("FLOW_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("chromium did not run: %v", err)
		}
		t.Skipf("chromium did not run: %v", err)
	}
	m := regexp.MustCompile(`data-probe="([^"]*)"`).FindSubmatch(out)
	require.NotNil(t, m, "the viewer script did not run")
	var res struct {
		Before, After, Panel, Trunk string
		Lit, TrunkLit               bool
	}
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &res))
	require.Contains(t, res.Panel, first.Op)
	require.Contains(t, res.Panel, first.Shape)
	require.Contains(t, res.Panel, first.DType)
	require.Contains(t, res.Panel, fmt.Sprintf("tiny.flow:%d", first.Line))
	require.True(t, res.Lit)
	// Hovering the target of an edge that branches off a shared trunk
	// lights the trunk too.
	require.NotEmpty(t, res.Trunk, "tiny has edges sharing a trunk")
	require.True(t, res.TrunkLit, "trunk %s", res.Trunk)
	var w0, w1 float64
	_, err = fmt.Sscan(strings.Fields(res.Before)[2], &w0)
	require.NoError(t, err)
	_, err = fmt.Sscan(strings.Fields(res.After)[2], &w1)
	require.NoError(t, err)
	require.Less(t, w1, w0, "the wheel zooms in: %s -> %s", res.Before, res.After)
}

// controlSource has an if nested in a for body and a while, each block
// reading values from outside.
const controlSource = `model Control {
    input x: f32[N, 5, 3]
    input h0: f32[N, 3]
    param W: f32[3, 3] = ones
    hs, h = for xt in x along 1 (h = h0) {
        g = tanh(xt @ W + h)
        h = if sum(g) > 0.0 { g * 0.5 } else { g - h }
        yield h
    }
    r, k = while (r = h, k = 0) k < 3 limit 3 {
        r = r * 0.9 + h
        k = k + 1
    }
    loss = sum(hs) + sum(r) + sum(cast(k, dtype = "f32"))
    output hs
    train loss with sgd(lr = 0.1)
}
`

// TestRegionsAsNestedClusters: the regions of cond, while and scan are
// snapshotted with their nodes, bound to the owner's operands by edges,
// written to DOT as clusters nested in the owner's cluster and in the
// region around it, and boxed by the built-in renderer.
func TestRegionsAsNestedClusters(t *testing.T) {
	m, v := compile(t, "control.flow", []byte(controlSource))
	nRegions := 0
	for _, n := range m.Body.Nodes {
		for range n.Regions() {
			nRegions++
		}
	}
	require.NotZero(t, nRegions)
	require.GreaterOrEqual(t, len(v.Regions), nRegions)
	nested := false
	for _, r := range v.Regions {
		require.NotNil(t, v.Node(r.Owner))
		require.Equal(t, r.Parent, v.Node(r.Owner).Region, "region %d", r.ID)
		nested = nested || r.Parent != 0
		for _, a := range r.Args {
			require.Equal(t, "arg", v.Node(a).Op)
			require.Equal(t, r.ID, v.Node(a).Region)
		}
	}
	require.True(t, nested, "the if in the for body is a nested region")
	// Nodes are topological along every edge, operand bindings and
	// results included; each block argument has one binding edge.
	at := map[int]int{}
	for i, n := range v.Nodes {
		at[n.ID] = i
	}
	binds := map[int]int{}
	for _, e := range v.edges() {
		require.Less(t, at[e.from], at[e.to], "edge %s", e.id())
		if e.kind == edgeBind {
			binds[e.to]++
			require.Equal(t, 0, v.Node(e.from).Region-v.Regions[v.Node(e.to).Region-1].Parent, "edge %s binds from the owner's region", e.id())
		}
	}
	for _, r := range v.Regions {
		for _, a := range r.Args {
			require.Equal(t, 1, binds[a], "block argument %%%d", a)
		}
	}

	// DOT: each node in the cluster of its region, each region's cluster
	// inside its owner's, inside the cluster of the owner's region.
	var b bytes.Buffer
	require.NoError(t, WriteDOT(&b, v))
	var stack []string
	where := map[string][]string{} // node or cluster -> enclosing clusters
	nodeLine := regexp.MustCompile(`^\s*(n\d+) \[`)
	for _, line := range strings.Split(b.String(), "\n") {
		if m := regexp.MustCompile(`subgraph (cluster_\w+) \{`).FindStringSubmatch(line); m != nil {
			where[m[1]] = slices.Clone(stack)
			stack = append(stack, m[1])
			continue
		}
		if strings.TrimSpace(line) == "}" && len(stack) > 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		if m := nodeLine.FindStringSubmatch(line); m != nil {
			where[m[1]] = slices.Clone(stack)
		}
	}
	require.Empty(t, stack)
	for _, n := range v.Nodes {
		in := where[fmt.Sprintf("n%d", n.ID)]
		if len(in) > 0 && in[len(in)-1] == fmt.Sprintf("cluster_n%d", n.ID) {
			in = in[:len(in)-1] // an owner, in its own cluster
		}
		if n.Region == 0 {
			require.NotContains(t, strings.Join(in, " "), "cluster_r", "n%d", n.ID)
			continue
		}
		require.NotEmpty(t, in, "n%d", n.ID)
		require.Equal(t, fmt.Sprintf("cluster_r%d", n.Region), in[len(in)-1], "n%d", n.ID)
	}
	for _, r := range v.Regions {
		in := where[fmt.Sprintf("cluster_r%d", r.ID)]
		require.Equal(t, fmt.Sprintf("cluster_n%d", r.Owner), in[len(in)-1])
		if r.Parent != 0 {
			require.Contains(t, in, fmt.Sprintf("cluster_r%d", r.Parent))
		}
	}
	require.Contains(t, b.String(), "style=dashed, arrowhead=empty")

	// The built-in renderer: a labelled box per region around each of
	// its nodes, the layout still drawable (edges point down, no
	// overlaps), every node, edge and region drawn.
	doc := parseSVG(t, SVG(v))
	require.Len(t, doc.groups["node"], len(v.Nodes))
	require.Len(t, doc.groups["edge"], len(v.edges()))
	require.Len(t, doc.groups["region"], len(v.Regions))
	for _, g := range doc.groups["region"] {
		require.Contains(t, g.title, "region %")
	}
	l := newLayout(v)
	for _, e := range v.edges() {
		require.Less(t, l.vs[l.index[e.from]].y, l.vs[l.index[e.to]].y, "edge %s", e.id())
	}
	for _, n := range v.Nodes {
		vx := l.vs[l.index[n.ID]]
		for r := n.Region; r != 0; r = v.Regions[r-1].Parent {
			inside := false
			for _, q := range l.regionBoxes(r) {
				inside = inside || q[0] <= vx.x-vx.w/2 && vx.x+vx.w/2 <= q[2] && q[1] <= vx.y-vx.h/2 && vx.y+vx.h/2 <= q[3]
			}
			require.True(t, inside, "n%d outside the box of region %d", n.ID, r)
		}
	}
	for i, a := range v.Nodes {
		for _, c := range v.Nodes[i+1:] {
			p, q := l.vs[l.index[a.ID]], l.vs[l.index[c.ID]]
			overlap := math.Abs(p.x-q.x) < (p.w+q.w)/2 && math.Abs(p.y-q.y) < (p.h+q.h)/2
			require.False(t, overlap, "nodes %d and %d overlap", a.ID, c.ID)
		}
	}
}
