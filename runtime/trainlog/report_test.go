package trainlog

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeTestReport logs a 3000-step run (enough that the plots are
// downsampled) and returns the report's path.
func writeTestReport(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(dir, Run{Signature: testSignature(), Batch: 100, Steps: 3000, LossPerExample: true})
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 3000; step++ {
		if err := l.Step(step, scalarsAt(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(Final{FinalLoss: 0.0512, TestAccuracy: 0.9213, Steps: 3000, Duration: 7500 * time.Millisecond, Checkpoint: "/tmp/ckpt/<step-3000>.safetensors"}); err != nil {
		t.Fatal(err)
	}
	return l.ReportPath()
}

var pathRE = regexp.MustCompile(`<path class="line" id="line-([a-z_]+)" d="([^"]*)"`)

// linePaths returns the d attribute of each plotted line, by plot id.
func linePaths(doc string) map[string]string {
	m := map[string]string{}
	for _, sm := range pathRE.FindAllStringSubmatch(doc, -1) {
		m[sm[1]] = sm[2]
	}
	return m
}

func TestReportContent(t *testing.T) {
	data, err := os.ReadFile(writeTestReport(t))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, want := range []string{
		"<title>Training report: mlp&lt;&amp;&gt;</title>",
		"7,850", "adam(lr=0.001)", "<th>Batch size</th><td>100</td>", "<th>Steps planned</th><td>3000</td>",
		"0.0512", "92.13%", "7.5s", "/tmp/ckpt/&lt;step-3000&gt;.safetensors",
		"40,000 examples/s overall", // 3000 steps × 100 / 7.5 s
		">step</text>", ">loss per example</text>", ">accuracy</text>",
		"<th>Final loss per example</th><td>0.0512</td>", "Loss per example <span>last ",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Self-contained: nothing to fetch, no script.
	for _, bad := range []string{"<script", "<link", "src=", "href=", "url(", "@import"} {
		if strings.Contains(doc, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	paths := linePaths(doc)
	for _, id := range []string{"loss", "accuracy", "examples_per_sec", "learning_rate"} {
		d := paths[id]
		n := strings.Count(d, "L") + 1
		if !strings.HasPrefix(d, "M") || n < 2 || n > maxPlotPoints {
			t.Errorf("plot %s: path with %d points", id, n)
		}
		if strings.Contains(d, "NaN") || strings.Contains(d, "Inf") {
			t.Errorf("plot %s: path %q has non-finite coordinates", id, d[:min(len(d), 80)])
		}
	}
	// Accuracy is measured every 50 steps: 60 points, drawn as is.
	if n := strings.Count(paths["accuracy"], "L") + 1; n != 60 {
		t.Errorf("accuracy path has %d points, want 60", n)
	}
}

// TestReportEmptyRun checks a run that logged nothing still gets a report
// with empty plot frames.
// TestLossUnit checks that the event file's loss tag and the report's
// labels say whether the losses are per example or per batch.
func TestLossUnit(t *testing.T) {
	for _, tc := range []struct {
		run  Run
		tag  string
		want []string
	}{
		{Run{Batch: 32, LossPerExample: true}, "loss_per_example", []string{"<th>Final loss per example</th>", "Loss per example <span>", ">loss per example</text>"}},
		{Run{Batch: 32}, "loss_per_batch", []string{"<th>Final loss per batch of 32</th>", "Loss per batch of 32 <span>", ">loss per batch of 32</text>", "<th>Lowest logged loss per batch of 32</th>"}},
	} {
		l, err := Open(t.TempDir(), tc.run)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Step(1, Scalars{Loss: 2, Accuracy: math.NaN(), LearningRate: math.NaN(), ExamplesPerSec: math.NaN()}); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(Final{FinalLoss: 2, TestAccuracy: math.NaN(), Steps: 1}); err != nil {
			t.Fatal(err)
		}
		events, err := os.ReadFile(l.Path())
		if err != nil {
			t.Fatal(err)
		}
		evs, err := readEventFile(events)
		if err != nil {
			t.Fatal(err)
		}
		if v := evs[len(evs)-1].values; len(v) != 1 || v[0].tag != tc.tag {
			t.Errorf("%+v: logged %+v, want tag %s", tc.run, v, tc.tag)
		}
		report, err := os.ReadFile(l.ReportPath())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range tc.want {
			if !strings.Contains(string(report), want) {
				t.Errorf("%+v: report lacks %q", tc.run, want)
			}
		}
	}
}

// TestReportShowsTheSummarysFigures checks that the report shows the
// training time and throughput Final gives, as the run's summary does,
// rather than recomputing them from a time that includes evaluations.
func TestReportShowsTheSummarysFigures(t *testing.T) {
	l, err := Open(t.TempDir(), Run{Batch: 10, Steps: 50, Resumed: 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(Final{FinalLoss: 0.5, TestAccuracy: math.NaN(), Steps: 50, Duration: 1500 * time.Millisecond, ExamplesPerSec: 180}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.ReportPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<th>Training time</th><td>1.5s</td>",
		"<th>Throughput</th><td>180 examples/s overall (30 steps × 10 examples in 1.5s)</td>", // as given, not recomputed
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReportEmptyRun(t *testing.T) {
	l, err := Open(t.TempDir(), Run{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(Final{FinalLoss: math.NaN(), TestAccuracy: math.NaN()}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.ReportPath())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "no values logged"); n != 2 {
		t.Errorf("%d empty plots, want 2 (loss and accuracy)", n)
	}
}

// chromium finds a Chromium binary, failing the test when
// FLOW_REQUIRE_CHROMIUM=1 and there is none, skipping it otherwise.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FLOW_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium not found and FLOW_REQUIRE_CHROMIUM=1 (install the Debian package chromium)")
	}
	t.Skip("chromium not found: install the Debian package chromium to render the report (set FLOW_REQUIRE_CHROMIUM=1 to make this a failure)")
	return ""
}

// runChromium runs headless Chromium on url with extra flags, bounded to
// 60 s, and returns its standard output.
func runChromium(t *testing.T, bin, url string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tmp := t.TempDir()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(tmp, "profile"), "--window-size=1200,1600",
	}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestReportRendersInChromium renders the report in headless Chromium and
// checks the plots are drawn: the screenshot is a real image with the
// plot line colours in it, and the DOM has the line paths.
func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	report := writeTestReport(t)
	url := "file://" + report

	shot := filepath.Join(t.TempDir(), "report.png")
	// TRAINLOG_KEEP=DIR keeps the report and its screenshot for a look.
	if d := os.Getenv("TRAINLOG_KEEP"); d != "" {
		shot = filepath.Join(d, "report.png")
		data, _ := os.ReadFile(report)
		os.WriteFile(filepath.Join(d, "report.html"), data, 0o644)
	}
	runChromium(t, bin, url, "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil || format != "png" {
		t.Fatalf("screenshot: format %q, %v", format, err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 600 {
		t.Fatalf("screenshot is %v", b)
	}
	// Count non-white pixels, distinct colours, and pixels of each line's
	// colour (anti-aliasing blends edges, so allow some distance).
	lines := map[string]color.RGBA{
		"loss":     {0x1f, 0x77, 0xb4, 0xff},
		"accuracy": {0xd6, 0x27, 0x28, 0xff},
	}
	onLine := map[string]int{}
	colours := map[uint32]bool{}
	nonWhite := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			colours[r<<16|g<<8|bl] = true
			if r < 245 || g < 245 || bl < 245 {
				nonWhite++
			}
			for id, c := range lines {
				dr, dg, db := int(r)-int(c.R), int(g)-int(c.G), int(bl)-int(c.B)
				if dr*dr+dg*dg+db*db < 30*30 {
					onLine[id]++
				}
			}
		}
	}
	t.Logf("screenshot %v: %d colours, %d non-white pixels, line pixels %v", b, len(colours), nonWhite, onLine)
	if len(colours) < 50 || nonWhite < b.Dx()*b.Dy()/100 {
		t.Errorf("screenshot looks blank: %d colours, %d non-white pixels", len(colours), nonWhite)
	}
	for id := range lines {
		if onLine[id] < 300 {
			t.Errorf("plot %s: only %d pixels of its line colour", id, onLine[id])
		}
	}

	dom := string(runChromium(t, bin, url, "--dump-dom"))
	if !strings.Contains(dom, "<svg") {
		t.Fatalf("dumped DOM has no svg: %s", tail(dom, 500))
	}
	paths := linePaths(dom)
	for _, id := range []string{"loss", "accuracy"} {
		if d := paths[id]; len(d) < 10 || !strings.HasPrefix(d, "M") {
			t.Errorf("DOM: plot %s path d=%q", id, d)
		}
	}
}
