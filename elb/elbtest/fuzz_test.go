package elbtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb/elbtest"
)

// FuzzRequest sends arbitrary form bodies to the endpoint. Invariants:
// it never panics, always answers with a request ID and a well-formed
// envelope (a Result for 200, an Error with a Code otherwise), and a
// failed call leaves the state unchanged.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"Action=DescribeLoadBalancers&Version=2015-12-01",
		"Action=CreateLoadBalancer&Name=a&Subnets.member.1=subnet-1&Version=2015-12-01",
		"Action=CreateTargetGroup&Name=t&Protocol=HTTP&Port=80&VpcId=vpc-1&Version=2015-12-01",
		"Action=CreateRule&ListenerArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A1%3Alistener%2Fapp%2Fa%2F1%2F2&Priority=1&Conditions.member.1.Field=path-pattern&Conditions.member.1.Values.member.1=%2F&Actions.member.1.Type=fixed-response&Actions.member.1.FixedResponseConfig.StatusCode=200&Version=2015-12-01",
		"Action=DescribeTags&ResourceArns=&Version=2015-12-01",
		"Action=ModifyRule&RuleArn=x&Conditions.member.2.Field=a&Version=2015-12-01",
		"Action=DescribeSubnets&Filter.1.Name=tag%3Ak&Filter.1.Value.1=*&Version=2016-11-15",
		"Action=CreateVpc&CidrBlock=10.0.0.0%2F16&Version=2016-11-15",
		"Action=DescribeTargetHealth&TargetGroupArn=a&Targets.member.1.Port=99999999999&Version=2015-12-01",
		"Action=AddTags&ResourceArns.member.1=a&Tags.member.1.Key=&Version=2015-12-01",
		"%zz",
		"",
	} {
		f.Add(s)
	}
	srv, err := elbtest.New(elbtest.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before := srv.Snapshot()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		srv.ServeHTTP(rec, req)
		out, _ := io.ReadAll(rec.Body)
		if rec.Header().Get("X-Amzn-Requestid") == "" {
			t.Fatal("no request ID")
		}
		s := string(out)
		if rec.Code == http.StatusOK {
			if !strings.Contains(s, "Response") {
				t.Fatalf("200 without a response envelope: %s", s)
			}
			return
		}
		if !strings.Contains(s, "<Code>") || !strings.Contains(s, "<Error>") {
			t.Fatalf("status %d without an error code: %s", rec.Code, s)
		}
		if !sameJSON(t, before, srv.Snapshot()) {
			t.Fatalf("failed call %q (status %d) changed the state", body, rec.Code)
		}
	})
}
