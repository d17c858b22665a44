package cli

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // register decoders for image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"
	"sort"

	"github.com/flow-lang/flow/runtime"
)

// Image preprocessing for predict: a photo or drawing of a digit becomes
// an MNIST-style 28×28 example. MNIST digits are white on black, scaled
// so the longer side of their bounding box is 20 pixels, and placed in a
// 28×28 field with their center of mass at the center; predict does the
// same to any PNG, JPEG or GIF.
const (
	mnistSide = 28 // the example is mnistSide×mnistSide
	mnistBox  = 20 // the digit's longer side after scaling
	// inkThreshold is the intensity (0..1, ink bright) above which a pixel
	// counts as part of the digit when finding its bounding box.
	inkThreshold = 0.2
	// maxImagePixels bounds decoded images (a hostile header cannot make
	// predict allocate gigabytes).
	maxImagePixels = 64 << 20
)

// readDigitImage decodes an image file and preprocesses it into 784
// values in [0, 1].
func readDigitImage(path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeDigitImage(f, path)
}

// decodeDigitImage is readDigitImage on a reader; name is used in errors.
func decodeDigitImage(r io.ReadSeeker, name string) ([]float32, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PNG, JPEG or GIF image: %v", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("%s: %s image of %d×%d pixels is empty or too large", name, format, cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %v", name, format, err)
	}
	return mnistStyle(grayInk(img)), nil
}

// grayMap is a grayscale image as intensities in [0, 1], row-major.
type grayMap struct {
	w, h int
	v    []float64
}

func (g grayMap) at(x, y int) float64 { return g.v[y*g.w+x] }

// grayInk converts an image to ink intensities: luminance, alpha
// composited on white, inverted when the background is light so that
// the digit is bright on dark as in MNIST.
func grayInk(img image.Image) grayMap {
	b := img.Bounds()
	g := grayMap{w: b.Dx(), h: b.Dy(), v: make([]float64, b.Dx()*b.Dy())}
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			r, gr, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			// Rec. 601 luma on premultiplied values, then composite on white.
			lum := (0.299*float64(r) + 0.587*float64(gr) + 0.114*float64(bl)) / 0xffff
			g.v[y*g.w+x] = lum + (1 - float64(a)/0xffff)
		}
	}
	// The border's mean brightness tells the background.
	var sum float64
	var count int
	for x := 0; x < g.w; x++ {
		sum += g.at(x, 0) + g.at(x, g.h-1)
		count += 2
	}
	for y := 0; y < g.h; y++ {
		sum += g.at(0, y) + g.at(g.w-1, y)
		count += 2
	}
	if sum/float64(count) > 0.5 {
		for i, v := range g.v {
			g.v[i] = 1 - v
		}
	}
	for i, v := range g.v {
		g.v[i] = math.Min(1, math.Max(0, v))
	}
	return g
}

// mnistStyle crops the ink's bounding box, scales it (area-averaging) so
// its longer side is mnistBox pixels, and centers its center of mass in a
// mnistSide×mnistSide field.
func mnistStyle(g grayMap) []float32 {
	out := make([]float32, mnistSide*mnistSide)
	x0, y0, x1, y1 := g.w, g.h, -1, -1
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			if g.at(x, y) > inkThreshold {
				x0, y0 = min(x0, x), min(y0, y)
				x1, y1 = max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return out // a blank image stays blank
	}
	bw, bh := x1-x0+1, y1-y0+1
	scale := float64(mnistBox) / float64(max(bw, bh))
	sw := max(1, int(math.Round(float64(bw)*scale)))
	sh := max(1, int(math.Round(float64(bh)*scale)))
	small := make([]float64, sw*sh)
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			small[y*sw+x] = boxAverage(g, x0, y0, float64(bw)/float64(sw), float64(bh)/float64(sh), x, y)
		}
	}
	// Center of mass of the scaled digit.
	var mass, cx, cy float64
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			v := small[y*sw+x]
			mass += v
			cx += v * (float64(x) + 0.5)
			cy += v * (float64(y) + 0.5)
		}
	}
	cx, cy = cx/mass, cy/mass
	offX := int(math.Round(float64(mnistSide)/2 - cx))
	offY := int(math.Round(float64(mnistSide)/2 - cy))
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			tx, ty := x+offX, y+offY
			if tx >= 0 && tx < mnistSide && ty >= 0 && ty < mnistSide {
				out[ty*mnistSide+tx] = float32(small[y*sw+x])
			}
		}
	}
	return out
}

// boxAverage is the mean of g over the source rectangle that target pixel
// (x, y) covers, with fractional pixel coverage.
func boxAverage(g grayMap, x0, y0 int, fx, fy float64, x, y int) float64 {
	sx0, sx1 := float64(x)*fx, float64(x+1)*fx
	sy0, sy1 := float64(y)*fy, float64(y+1)*fy
	var sum, area float64
	for py := int(sy0); py < int(math.Ceil(sy1)); py++ {
		hy := math.Min(sy1, float64(py+1)) - math.Max(sy0, float64(py))
		for px := int(sx0); px < int(math.Ceil(sx1)); px++ {
			hx := math.Min(sx1, float64(px+1)) - math.Max(sx0, float64(px))
			if hx <= 0 || hy <= 0 || x0+px >= g.w || y0+py >= g.h {
				continue
			}
			sum += hx * hy * g.at(x0+px, y0+py)
			area += hx * hy
		}
	}
	if area == 0 {
		return 0
	}
	return sum / area
}

// labelScore is one entry of predict's answer for an image.
type labelScore struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// topLabels ranks the classes of one output row: the values themselves
// when they already are probabilities (non-negative, summing to 1), else
// their softmax.
func topLabels(vals []float32, k int) []labelScore {
	probs := make([]float64, len(vals))
	sum, nonNeg := 0.0, true
	for i, v := range vals {
		probs[i] = float64(v)
		sum += probs[i]
		nonNeg = nonNeg && probs[i] >= 0
	}
	if !nonNeg || math.Abs(sum-1) > 1e-3 {
		m := math.Inf(-1)
		for _, p := range probs {
			m = math.Max(m, p)
		}
		sum = 0
		for i, p := range probs {
			probs[i] = math.Exp(p - m)
			sum += probs[i]
		}
		for i := range probs {
			probs[i] /= sum
		}
	}
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	// Best first; ties go to the lower label.
	sort.SliceStable(order, func(i, j int) bool { return probs[order[i]] > probs[order[j]] })
	k = min(k, len(order))
	out := make([]labelScore, k)
	for i := 0; i < k; i++ {
		out[i] = labelScore{Label: fmt.Sprint(order[i]), Score: math.Round(probs[order[i]]*1e4) / 1e4}
	}
	return out
}

// imagePrediction is predict's answer for one image file.
type imagePrediction struct {
	File string       `json:"file"` // as given on the command line
	Top  []labelScore `json:"top"`  // the best labels, best first
}

// predictImages classifies image files: for each, one line with the JSON
// object {"file": path, "top": [{"label": ..., "score": ...}, ...]}.
func predictImages(e *env, sig *runtime.Signature, feeds []feedShape, files []string, top int) error {
	if len(feeds) != 1 || feeds[0].per != mnistSide*mnistSide {
		return fmt.Errorf("model %s: predicting from images needs one predict input of %d values per example (28×28 grayscale), have %s",
			sig.Model, mnistSide*mnistSide, describeInputs(sig, sig.PredictInputs))
	}
	out := -1
	for i, spec := range sig.Outputs {
		if shape, err := exampleShape(spec); err == nil && shape.per == mnistClasses {
			out = i
			break
		}
	}
	if out < 0 {
		return fmt.Errorf("model %s: predicting from images needs an output of %d class scores per example", sig.Model, mnistClasses)
	}
	n := 1
	if feeds[0].fixed > 0 {
		n = feeds[0].fixed
	}
	buf := make([]float32, n*feeds[0].per)
	for _, path := range files {
		x, err := readDigitImage(path)
		if err != nil {
			return err
		}
		clear(buf)
		copy(buf, x)
		results := e.model.PredictFeed(n, [][]float32{buf})
		if _, err := output(sig, results, out, n); err != nil {
			return err
		}
		line, err := json.Marshal(imagePrediction{File: path, Top: topLabels(results[out][:mnistClasses], top)})
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(e.stdout, "%s\n", line); err != nil {
			return err
		}
	}
	return nil
}
