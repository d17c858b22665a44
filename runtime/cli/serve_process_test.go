//go:build unix

package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime/checkpoint"
)

// slowModel is the softmax model with a PredictFeed that takes a while, so
// a request is still in flight when the server is told to stop.
type slowModel struct {
	*softmaxModel
	delay time.Duration
}

func (m *slowModel) PredictFeed(n int, in [][]float32) [][]float32 {
	fmt.Println("predicting") // tells the parent the request is in flight
	time.Sleep(m.delay)
	return m.softmaxModel.PredictFeed(n, in)
}

// Environment of the child process TestServeChild runs in.
const (
	childArgsEnv  = "FLOW_TEST_SERVE_ARGS"  // JSON array of arguments
	childDelayEnv = "FLOW_TEST_SERVE_DELAY" // PredictFeed's delay
)

// TestServeChild is not a test: it is the serve process TestServeProcess
// starts, running Main on a slow softmax model.
func TestServeChild(t *testing.T) {
	raw := os.Getenv(childArgsEnv)
	if raw == "" {
		t.Skip("runs only as TestServeProcess's child")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	delay, err := time.ParseDuration(os.Getenv(childDelayEnv))
	if err != nil {
		t.Fatal(err)
	}
	os.Exit(Main(args, &slowModel{newSoftmaxModel(), delay}, os.Stdout, os.Stderr))
}

// serveProcess starts the model binary's serve verb in a child process and
// returns it with the server's base URL once it is ready.
// The channel receives the lines the child prints after its first.
func serveProcess(t *testing.T, delay time.Duration, args ...string) (*exec.Cmd, string, *strings.Builder, <-chan string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv, _ := json.Marshal(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	cmd := exec.Command(exe, "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(argv), childDelayEnv+"="+delay.String())
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("reading the server's first line: %v; stderr:\n%s", err, stderr)
	}
	m := regexp.MustCompile(`^serving fake_softmax on (http://127\.0\.0\.1:\d+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q, want \"serving fake_softmax on http://127.0.0.1:PORT\"", line)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case lines <- strings.TrimSpace(line):
			default:
			}
		}
	}()
	return cmd, m[1], stderr, lines
}

// TestServeProcess runs serve in a real process: the model status answers
// once the server says it is ready, and SIGTERM during a slow request lets
// that request finish before the process exits 0.
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	cmd, url, stderr, lines := serveProcess(t, 500*time.Millisecond, "--max-delay", "1ms")

	resp, err := http.Get(url + "/v1/models/fake_softmax")
	if err != nil {
		t.Fatal(err)
	}
	status, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(status), `"state":"AVAILABLE"`) {
		t.Fatalf("status: %d %s", resp.StatusCode, status)
	}

	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		x := make([]float32, 784)
		body, _ := json.Marshal(map[string]any{"instances": [][]float32{x, x}})
		resp, err := http.Post(url+"/v1/models/FakeSoftmax:predict", "application/json", strings.NewReader(string(body)))
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, string(b), err}
	}()
	if line := <-lines; line != "predicting" {
		t.Fatalf("child printed %q, want \"predicting\"", line)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.code != 200 {
		t.Fatalf("in-flight request: %d %s %v; server stderr:\n%s", r.code, r.body, r.err, stderr)
	}
	t.Logf("in-flight request answered after %v", time.Since(start).Round(time.Millisecond))
	var pred struct{ Predictions [][]float64 }
	if err := json.Unmarshal([]byte(r.body), &pred); err != nil || len(pred.Predictions) != 2 {
		t.Fatalf("predictions %s: %v", r.body, err)
	}
	for _, p := range pred.Predictions { // zero parameters: a uniform softmax
		for _, v := range p {
			if v < 0.0999 || v > 0.1001 || len(p) != 10 {
				t.Fatalf("prediction %v, want 10 × 0.1", p)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v; stderr:\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("stderr %q does not report the shutdown", stderr)
	}
	if _, err := http.Get(url + "/v1/models/fake_softmax"); err == nil {
		t.Errorf("the server still answers after exiting")
	}
}

// TestServeProcessStalledClient checks that a client stalled in the
// middle of its request body does not hold the shutdown: once SIGTERM
// arrives it has a second (the shutdown grace) to finish, then is
// answered 503, and serve exits 0 — rather than waiting the whole
// --shutdown-timeout for it and exiting 1. A slow body is also timed
// out by --body-timeout, which is long here.
func TestServeProcessStalledClient(t *testing.T) {
	cmd, url, stderr, _ := serveProcess(t, 0, "--body-timeout", "1h", "--shutdown-timeout", "1h")
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	// A first request makes sure the server has accepted the connection.
	fmt.Fprintf(conn, "GET /v1/models/fake_softmax HTTP/1.1\r\nHost: test\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(conn, "POST /v1/models/fake_softmax:predict HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n{\"instances\": [[")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the stalled client got no answer: %v; stderr:\n%s", err, stderr)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "shutting down") {
		t.Errorf("stalled client: %d %s", resp.StatusCode, body)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v; stderr:\n%s", err, stderr)
	}
}

// TestServeProcessCheckpoint serves trained parameters from a checkpoint
// with top-k answers.
func TestServeProcessCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	m := newSoftmaxModel()
	params := m.Params()
	params[1].Data[7], params[1].Data[2] = 3, 2 // biases favor classes 7, then 2
	path := filepath.Join(t.TempDir(), "trained.safetensors")
	if err := checkpoint.Save(path, params, map[string]string{"model": "FakeSoftmax"}); err != nil {
		t.Fatal(err)
	}
	cmd, url, stderr, _ := serveProcess(t, 0, "--checkpoint", path, "--top-k", "2")
	x := make([]float32, 784)
	body, _ := json.Marshal(map[string]any{"instances": [][]float32{x}})
	resp, err := http.Post(url+"/v1/models/fake_softmax:predict", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pred struct {
		Predictions []struct {
			Classes []int
			Scores  []float64
		}
	}
	if err := json.Unmarshal(b, &pred); err != nil || resp.StatusCode != 200 || len(pred.Predictions) != 1 {
		t.Fatalf("%d %s: %v", resp.StatusCode, b, err)
	}
	// softmax of logits (3 for class 7, 2 for class 2, 0 for 8 others).
	p := pred.Predictions[0]
	e3, e2 := 20.085536923187668, 7.38905609893065
	sum := e3 + e2 + 8
	if len(p.Classes) != 2 || p.Classes[0] != 7 || p.Classes[1] != 2 ||
		math.Abs(p.Scores[0]-e3/sum) > 1e-6 || math.Abs(p.Scores[1]-e2/sum) > 1e-6 {
		t.Errorf("prediction %+v, want classes [7 2] with scores [%.6f %.6f]", p, e3/sum, e2/sum)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v; stderr:\n%s", err, stderr)
	}
}
