package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the quickstart as a newcomer would and checks what
// it prints: the ALB spreads requests over the three backends, the NLBs
// answer, the stopped backend turns unhealthy and gets no more requests,
// and everything is cleaned up.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	if err := run(ctx, &out, config{TimeScale: 0.05}); err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out.String())
	}
	t.Logf("quickstart took %v:\n%s", time.Since(start), out.String())
	text := out.String()

	counts := func(line string) map[string]int {
		m := map[string]int{}
		for _, x := range regexp.MustCompile(`(backend-\d|status \d+) (\d+)`).FindAllStringSubmatch(line, -1) {
			n, _ := strconv.Atoi(x[2])
			m[x[1]] = n
		}
		return m
	}
	lineWith := func(prefix string, nth int) string {
		var found []string
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, prefix) {
				found = append(found, l)
			}
		}
		if len(found) <= nth {
			t.Fatalf("no line %d containing %q", nth, prefix)
		}
		return found[nth]
	}

	alb := counts(lineWith("30 requests to http://k8s-game2048-ingress2", 0))
	if len(alb) != 3 || alb["backend-1"] == 0 || alb["backend-2"] == 0 || alb["backend-3"] == 0 {
		t.Errorf("ALB spread = %v, want requests on backend-1, -2 and -3 only", alb)
	}
	nlb := counts(lineWith("NLB answers on TCP:80", 0))
	if sum(nlb) != 9 || nlb["status"] != 0 || len(nlb) == 0 {
		t.Errorf("NLB answers = %v", nlb)
	}
	for k := range nlb {
		if !strings.HasPrefix(k, "backend-") {
			t.Errorf("NLB answer %q", k)
		}
	}
	bound := counts(lineWith("9 connections to http://existing-nlb", 0))
	if sum(bound) != 9 || len(bound) == 0 {
		t.Errorf("TargetGroupBinding NLB answers = %v", bound)
	}
	if !strings.Contains(text, "stopped backend-3") || !regexp.MustCompile(`targets: healthy 2, unhealthy \(Target\.\w+\) 1`).MatchString(text) {
		t.Errorf("backend-3 not reported unhealthy")
	}
	after := counts(lineWith("30 requests to the ALB", 0))
	if after["backend-3"] != 0 || after["backend-1"]+after["backend-2"] != 30 {
		t.Errorf("after backend-3 stopped, ALB spread = %v", after)
	}
	for _, want := range []string{"in subnets found by tag kubernetes.io/role/elb", ":active", "elb/provision plan", "deleted the load balancers and target groups", "deleted the VPC and its subnets; done"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
