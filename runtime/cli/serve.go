package cli

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/serve"
)

// serveSignals stop the server gracefully.
var serveSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func runServe(e *env, args []string) error {
	fs := e.newFlags("serve", "[--addr HOST:PORT] [--checkpoint DIR|FILE] [--max-batch B] [--max-delay D] [--queue Q] [--max-body SIZE] [--request-memory SIZE] [--body-timeout D] [--top-k K] [--idle-timeout D] [--shutdown-timeout D]",
		"Serve answers predictions over HTTP with TensorFlow Serving's REST API:\n\n"+
			"  GET  /v1/models/NAME            status\n"+
			"  GET  /v1/models/NAME/metadata   signature: inputs, outputs, dtypes, shapes\n"+
			"  POST /v1/models/NAME:predict    {\"instances\": [...]} → {\"predictions\": [...]}\n"+
			"                                  {\"inputs\": ...} → {\"outputs\": ...}\n\n"+
			"NAME is the model's source file name without .flow (or its declared name).\n"+
			"Requests from concurrent clients are batched: up to --max-batch examples are\n"+
			"fed at once, waiting at most --max-delay for more after the first request.\n"+
			"For a classifier, --top-k K (or \"top_k\": K in a request) answers with the K\n"+
			"best classes and their scores.\n\n"+
			"Requests hold at most --request-memory at once (bodies are decoded as they\n"+
			"arrive, straight into the model's input tensors); a body must arrive, and\n"+
			"its answer be taken, within --body-timeout. SIGINT or SIGTERM stops the\n"+
			"server gracefully: it stops accepting connections, answers every request\n"+
			"already received (closing its connection), closes connections idle for a\n"+
			"second, and exits once they are answered.")
	addr := fs.String("addr", "127.0.0.1:8501", "`HOST:PORT` to listen on (port 0 picks a free one)")
	maxBatch := fs.Int("max-batch", serve.DefaultMaxBatch, "most examples fed to the model at once")
	maxDelay := fs.Duration("max-delay", serve.DefaultMaxDelay, "longest wait for more requests to batch after the first (0: none)")
	queue := fs.Int("queue", serve.DefaultQueue, "most requests waiting for the model; more are answered 503")
	maxBody := sizeFlag(serve.DefaultMaxBody)
	fs.Var(&maxBody, "max-body", "largest request body, e.g. 16MiB, 512KiB or 1000000; larger ones are answered 413")
	maxMemory := sizeFlag(serve.DefaultMaxMemory)
	fs.Var(&maxMemory, "request-memory", "most memory requests hold at once (their inputs, outputs and answers); more wait")
	bodyTimeout := fs.Duration("body-timeout", serve.DefaultBodyTimeout, "longest time to receive a request body, or to send an answer; slower clients get 408")
	topK := fs.Int("top-k", 0, "for a classifier: answer with the K best classes and their scores (0: the raw outputs)")
	grace := fs.Duration("shutdown-timeout", serve.DefaultShutdownTimeout, "on SIGINT or SIGTERM, how long to wait for requests in flight")
	idle := fs.Duration("idle-timeout", serve.DefaultIdleTimeout, "close a keep-alive connection idle this long")
	ckpt := checkpointFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *maxBatch < 1:
		return &usageError{msg: fmt.Sprintf("serve: --max-batch must be at least 1, got %d", *maxBatch), usage: fs.Usage}
	case *maxDelay < 0:
		return &usageError{msg: fmt.Sprintf("serve: --max-delay must not be negative, got %v", *maxDelay), usage: fs.Usage}
	case *queue < 1:
		return &usageError{msg: fmt.Sprintf("serve: --queue must be at least 1, got %d", *queue), usage: fs.Usage}
	case *topK < 0:
		return &usageError{msg: fmt.Sprintf("serve: --top-k must not be negative, got %d", *topK), usage: fs.Usage}
	case *grace <= 0:
		return &usageError{msg: fmt.Sprintf("serve: --shutdown-timeout must be positive, got %v", *grace), usage: fs.Usage}
	case *idle <= 0:
		return &usageError{msg: fmt.Sprintf("serve: --idle-timeout must be positive, got %v", *idle), usage: fs.Usage}
	case *bodyTimeout <= 0:
		return &usageError{msg: fmt.Sprintf("serve: --body-timeout must be positive, got %v", *bodyTimeout), usage: fs.Usage}
	}
	// The server feeds up to --max-batch examples at once: their working
	// buffers must fit the memory limit.
	batch := *maxBatch
	if sig := e.model.Signature(); sig.MaxBatch > 0 {
		batch = min(batch, sig.MaxBatch)
	}
	if err := runtime.CheckBatchMemory(e.model.Signature(), batch); err != nil {
		return fmt.Errorf("serve --max-batch %d: %v", *maxBatch, err)
	}
	if *ckpt != "" {
		if _, err := restoreCheckpoint(e.model, *ckpt); err != nil {
			return err
		}
	} else if len(e.model.Params()) > 0 {
		fmt.Fprintln(e.stderr, "warning: no --checkpoint given: serving the initial, untrained parameters")
	}
	delay := *maxDelay
	if delay == 0 {
		delay = -1 // Options: negative means no wait
	}
	srv, err := serve.New(e.model, serve.Options{
		MaxBatch: *maxBatch,
		MaxDelay: delay,
		Queue:    *queue,
		MaxBody:  int64(maxBody),
		TopK:     *topK,

		MaxMemory:       int64(maxMemory),
		BodyTimeout:     *bodyTimeout,
		IdleTimeout:     *idle,
		ShutdownTimeout: *grace,
		ErrorLog:        log.New(e.stderr, "serve: ", 0),
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx, stop := signal.NotifyContext(context.Background(), serveSignals...)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	fmt.Fprintf(e.stdout, "serving %s on http://%s\n", srv.ModelName(), ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process
	fmt.Fprintln(e.stderr, "shutting down: finishing the requests in flight")
	return <-served
}

// sizeFlag is a flag value holding a number of bytes, written as an
// integer with an optional unit: B, KiB, MiB, GiB (powers of 1024; K, M, G
// too) or KB, MB, GB (powers of 1000).
type sizeFlag int64

// String implements flag.Value.
func (b *sizeFlag) String() string {
	n := int64(*b)
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set implements flag.Value.
func (b *sizeFlag) Set(s string) error {
	units := []struct {
		suffix string
		size   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	num, size := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, size = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.size
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/size {
		return fmt.Errorf("want a positive size such as 16MiB, 512KiB or 1000000, got %q", s)
	}
	*b = sizeFlag(n * size)
	return nil
}
