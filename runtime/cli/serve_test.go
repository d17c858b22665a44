package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--max-batch", "0"}, ExitUsage, "--max-batch must be at least 1"},
		{[]string{"serve", "--max-delay", "-1ms"}, ExitUsage, "--max-delay must not be negative"},
		{[]string{"serve", "--queue", "0"}, ExitUsage, "--queue must be at least 1"},
		{[]string{"serve", "--top-k", "-2"}, ExitUsage, "--top-k must not be negative"},
		{[]string{"serve", "--shutdown-timeout", "0s"}, ExitUsage, "--shutdown-timeout must be positive"},
		{[]string{"serve", "--max-body", "lots"}, ExitUsage, `want a positive size such as 16MiB`},
		{[]string{"serve", "--request-memory", "0"}, ExitUsage, `want a positive size such as 16MiB`},
		{[]string{"serve", "--request-memory", "20KiB"}, ExitError, "error: serve: a memory limit of 20480 bytes holds no example of model FakeSoftmax"},
		{[]string{"serve", "--body-timeout", "0s"}, ExitUsage, "--body-timeout must be positive"},
		{[]string{"serve", "extra"}, ExitUsage, `unexpected argument "extra"`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, ExitError, "error: listen tcp"},
		{[]string{"serve", "--checkpoint", filepath.Join(t.TempDir(), "nope")}, ExitError, "does not exist"},
	} {
		code, stdout, stderr := run(newSoftmaxModel(), tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d with %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
}

// TestServeCorruptCheckpoint checks that serve refuses to start from a
// damaged checkpoint.
func TestServeCorruptCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := os.WriteFile(path, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"W\": trunc"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(newSoftmaxModel(), "serve", "--addr", "127.0.0.1:0", "--checkpoint", path)
	if code != ExitError || stdout != "" || !strings.HasPrefix(stderr, "error: ") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d with an error", code, stdout, stderr, ExitError)
	}
}

func TestServeTopKNeedsClassifier(t *testing.T) {
	m := newSoftmaxModel()
	m.sig.Outputs[0].Shape = []int{-1, 10, 2}
	m.sig.Outputs[0].Dims = []string{"N", "", ""}
	code, _, stderr := run(m, "serve", "--addr", "127.0.0.1:0", "--top-k", "3")
	if code != ExitError || !strings.Contains(stderr, "top-k needs a classifier") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestServeHelp(t *testing.T) {
	code, _, stderr := run(newSoftmaxModel(), "serve", "-h")
	for _, want := range []string{"usage: ", "/v1/models/NAME:predict", "--max-batch", "--max-delay", "--queue", "--max-body", "--top-k", "--checkpoint", "(default 16MiB)", "--request-memory", "(default 256MiB)", "--body-timeout", "(default 30s)"} {
		if code != ExitOK || !strings.Contains(stderr, want) {
			t.Errorf("serve -h: exit %d, missing %q in %s", code, want, stderr)
		}
	}
	_, stdout, _ := run(newSoftmaxModel(), "help")
	if !strings.Contains(stdout, "serve ") {
		t.Errorf("help does not list serve:\n%s", stdout)
	}
}

func TestSizeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"16MiB", 16 << 20}, {"512KiB", 512 << 10}, {"1GiB", 1 << 30}, {"2K", 2048}, {"3M", 3 << 20},
		{"1000000", 1000000}, {"5MB", 5000000}, {"7KB", 7000}, {"100B", 100}, {" 8 MiB ", 8 << 20},
	} {
		var s sizeFlag
		if err := s.Set(tc.in); err != nil || int64(s) != tc.want {
			t.Errorf("Set(%q) = %d, %v; want %d", tc.in, s, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "-5", "MiB", "1.5MiB", "12XB", "99999999999GiB"} {
		var s sizeFlag
		if err := s.Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, s)
		}
	}
	for _, tc := range []struct {
		v    sizeFlag
		want string
	}{{16 << 20, "16MiB"}, {1536, "1536"}, {2048, "2KiB"}, {1000, "1000"}, {3 << 30, "3GiB"}} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String(%d) = %q, want %q", int64(tc.v), got, tc.want)
		}
	}
}
