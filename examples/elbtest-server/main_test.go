package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the program on a loopback port and returns its URL and a
// stop function that waits for it to exit.
func start(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(u string) { urls <- u })
	}()
	select {
	case u := <-urls:
		return u, func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	return "", nil
}

// TestRestartKeepsState provisions through the SDK, restarts the program
// with the same -state file and finds everything again.
func TestRestartKeepsState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	client := func(url string) (*elbv2.Client, func()) {
		tr := &httpTransport{}
		c := elbv2.New(elbv2.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url), HTTPClient: tr.client(),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		return c, tr.close
	}
	ctx := context.Background()
	url, stop := start(t, "-state", state, "-region", "eu-west-1")
	c, closeIdle := client(url)
	out, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("kept"), TargetType: types.TargetTypeEnumLambda})
	if err != nil {
		t.Fatal(err)
	}
	closeIdle()
	stop()

	url, stop = start(t, "-state", state, "-region", "eu-west-1")
	defer stop()
	c, closeIdle = client(url)
	defer closeIdle()
	got, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"kept"}})
	if err != nil {
		t.Fatal(err)
	}
	if *got.TargetGroups[0].TargetGroupArn != *out.TargetGroups[0].TargetGroupArn {
		t.Errorf("after restart: %s, want %s", *got.TargetGroups[0].TargetGroupArn, *out.TargetGroups[0].TargetGroupArn)
	}
}

func TestBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-nope"}, func(string) {}); err == nil {
		t.Error("an unknown flag was accepted")
	}
	if err := run(context.Background(), []string{"-addr", "256.0.0.1:1"}, func(string) {}); err == nil {
		t.Error("a bad address was accepted")
	}
}
