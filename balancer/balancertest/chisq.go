package balancertest

import "math"

// ChiSquare returns Pearson's χ² statistic of observed counts against
// expected counts and its p-value, the probability of a statistic at least
// that large if the counts follow the expectation (len-1 degrees of
// freedom). A test "passes at α" when p ≥ α.
func ChiSquare(observed []int, expected []float64) (stat, p float64) {
	for i, o := range observed {
		d := float64(o) - expected[i]
		stat += d * d / expected[i]
	}
	df := float64(len(observed) - 1)
	if df <= 0 {
		return stat, 1
	}
	return stat, gammaQ(df/2, stat/2)
}

// gammaQ is the regularized upper incomplete gamma function Q(a, x), by its
// series for x < a+1 and Lentz's continued fraction otherwise.
func gammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}
